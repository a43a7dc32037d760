import { useEffect, useState } from 'react';
import { endForAll, leave, sendReaction, toggleCamera, toggleMute, toggleShare } from '../meeting/meeting-controller';
import { REACTIONS } from '../meeting/messages';
import { useChatStore } from '../state/chat-store';
import { useSessionStore } from '../state/session-store';
import { useUiStore } from '../state/ui-store';
import { DeviceMenu } from './DeviceMenu';
import { Icon } from './Icon';

export const SHORTCUT_LABEL = /Mac|iPhone|iPad/.test(typeof navigator !== 'undefined' ? navigator.platform : '') ? '⌘D' : 'Ctrl+D';
export const CAMERA_SHORTCUT_LABEL = SHORTCUT_LABEL.replace('D', 'E');

export function ControlBar() {
  const muted = useSessionStore((s) => s.muted);
  const cameraOn = useSessionStore((s) => s.cameraOn);
  const sharing = useSessionStore((s) => s.sharing);
  const isHost = useSessionStore((s) => s.identity?.isHost ?? false);
  const capacity = useSessionStore((s) => s.videoCapacityReached);
  const panel = useUiStore((s) => s.panel);
  const togglePanel = useUiStore((s) => s.togglePanel);
  const setInviteOpen = useUiStore((s) => s.setInviteOpen);
  const unread = useChatStore((s) => s.unread);
  const [menu, setMenu] = useState<'none' | 'reactions' | 'devices' | 'leave'>('none');
  const toggleMenu = (m: typeof menu): void => setMenu(menu === m ? 'none' : m);
  // Escape closes an open menu, as in any menu.
  useEffect(() => {
    if (menu === 'none') return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') setMenu('none');
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [menu]);
  const canShare = typeof navigator !== 'undefined' && Boolean(navigator.mediaDevices?.getDisplayMedia);

  return (
    <nav className="control-bar" aria-label="Meeting controls">
      <div className="control-group">
        <button type="button" className={`control ${muted ? 'off' : ''}`} aria-pressed={muted} aria-label={muted ? `Unmute (${SHORTCUT_LABEL})` : `Mute (${SHORTCUT_LABEL})`} title={`${muted ? 'Unmute' : 'Mute'} (${SHORTCUT_LABEL})`} onClick={toggleMute} data-testid="mute-button">
          <Icon name={muted ? 'micOff' : 'mic'} />
          <span className="control-label">{muted ? 'Unmute' : 'Mute'}</span>
        </button>
        <button
          type="button"
          className={`control ${cameraOn ? '' : 'off'}`}
          aria-pressed={!cameraOn}
          aria-label={cameraOn ? `Stop camera (${CAMERA_SHORTCUT_LABEL})` : `Start camera (${CAMERA_SHORTCUT_LABEL})`}
          title={capacity && !cameraOn ? 'Video capacity reached' : undefined}
          onClick={() => void toggleCamera()}
          data-testid="camera-button"
        >
          <Icon name={cameraOn ? 'cam' : 'camOff'} />
          <span className="control-label">{cameraOn ? 'Stop video' : 'Start video'}</span>
        </button>
        <div className="popover-anchor">
          <button type="button" className="control" aria-label="Audio and video settings" aria-expanded={menu === 'devices'} onClick={() => toggleMenu('devices')}>
            <Icon name="gear" />
            <span className="control-label">Devices</span>
          </button>
          {menu === 'devices' && <DeviceMenu onClose={() => setMenu('none')} />}
        </div>
      </div>
      <div className="control-group">
        {canShare && (
          <button type="button" className={`control ${sharing ? 'active' : ''}`} aria-pressed={sharing} aria-label={sharing ? 'Stop sharing' : 'Share screen'} onClick={() => void toggleShare()} data-testid="share-button">
            <Icon name="share" />
            <span className="control-label">{sharing ? 'Stop share' : 'Share'}</span>
          </button>
        )}
        <div className="popover-anchor">
          <button type="button" className="control" aria-label="Send a reaction" aria-expanded={menu === 'reactions'} onClick={() => toggleMenu('reactions')}>
            <Icon name="smile" />
            <span className="control-label">React</span>
          </button>
          {menu === 'reactions' && (
            <div className="popover reactions-menu" role="menu" aria-label="Reactions">
              {REACTIONS.map((emoji) => (
                <button
                  key={emoji}
                  type="button"
                  role="menuitem"
                  className="reaction-button"
                  aria-label={`React ${emoji}`}
                  onClick={() => {
                    sendReaction(emoji);
                    setMenu('none');
                  }}
                >
                  {emoji}
                </button>
              ))}
            </div>
          )}
        </div>
        <button type="button" className={`control ${panel === 'chat' ? 'active' : ''}`} aria-pressed={panel === 'chat'} aria-label={unread > 0 ? `Chat, ${unread} unread` : 'Chat'} onClick={() => togglePanel('chat')} data-testid="chat-button">
          <Icon name="chat" />
          <span className="control-label">Chat</span>
          {unread > 0 && (
            <span className="unread" data-testid="unread-badge">
              {unread > 99 ? '99+' : unread}
            </span>
          )}
        </button>
        <button type="button" className={`control ${panel === 'roster' ? 'active' : ''}`} aria-pressed={panel === 'roster'} aria-label="Participants" onClick={() => togglePanel('roster')} data-testid="roster-button">
          <Icon name="people" />
          <span className="control-label">People</span>
        </button>
        <button type="button" className="control" aria-label="Invite people" onClick={() => setInviteOpen(true)} data-testid="invite-button">
          <Icon name="link" />
          <span className="control-label">Invite</span>
        </button>
      </div>
      <div className="control-group">
        <div className="popover-anchor">
          <button
            type="button"
            className="control leave"
            aria-label="Leave meeting"
            aria-expanded={isHost ? menu === 'leave' : undefined}
            onClick={() => (isHost ? toggleMenu('leave') : void leave())}
            data-testid="leave-button"
          >
            <Icon name="leave" />
            <span className="control-label">Leave</span>
          </button>
          {menu === 'leave' && (
            <div className="popover leave-menu" role="menu">
              <button type="button" role="menuitem" className="button" onClick={() => void leave()} data-testid="leave-only">
                Leave meeting
              </button>
              <button type="button" role="menuitem" className="button danger" onClick={() => void endForAll()} data-testid="end-for-all">
                End meeting for all
              </button>
            </div>
          )}
        </div>
      </div>
    </nav>
  );
}
