import { useEffect, useState } from 'react';
import { t } from '../i18n/i18n';
import { endForAll, leave, sendReaction, toggleCamera, toggleMute, toggleShare } from '../meeting/meeting-controller';
import { REACTIONS } from '../meeting/messages';
import { setHand } from '../meeting/moderation';
import { useChatStore } from '../state/chat-store';
import { handPosition, isModerator, useLiveStore } from '../state/live-store';
import { useSessionStore } from '../state/session-store';
import { useUiStore } from '../state/ui-store';
import { DeviceMenu } from './DeviceMenu';
import { Icon } from './Icon';

export const SHORTCUT_LABEL = /Mac|iPhone|iPad/.test(typeof navigator !== 'undefined' ? navigator.platform : '') ? '⌘D' : 'Ctrl+D';
export const CAMERA_SHORTCUT_LABEL = SHORTCUT_LABEL.replace('D', 'E');

/** The microphone button: mute and unmute, or — held by a host's lock — ask to unmute. */
function MuteButton() {
  const muted = useSessionStore((s) => s.muted);
  const locked = useLiveStore((s) => s.live?.self.audioLocked ?? false);
  const asked = useLiveStore((s) => s.live?.self.askedToUnmute ?? false);
  if (locked && muted) {
    return (
      <button
        type="button"
        className={`control off locked ${asked ? 'asked' : ''}`}
        aria-pressed="true"
        aria-label={asked ? t.controls.askedToUnmuteLabel : t.controls.askToUnmuteLabel}
        title={asked ? t.controls.askedToUnmuteLabel : t.controls.askToUnmuteLabel}
        disabled={asked}
        onClick={toggleMute}
        data-testid="mute-button"
        data-locked="true"
      >
        <Icon name="lock" />
        <span className="control-label">{asked ? t.controls.askedToUnmute : t.controls.askToUnmute}</span>
      </button>
    );
  }
  return (
    <button
      type="button"
      className={`control ${muted ? 'off' : ''}`}
      aria-pressed={muted}
      aria-label={muted ? t.controls.unmute(SHORTCUT_LABEL) : t.controls.mute(SHORTCUT_LABEL)}
      title={muted ? t.controls.unmute(SHORTCUT_LABEL) : t.controls.mute(SHORTCUT_LABEL)}
      onClick={toggleMute}
      data-testid="mute-button"
    >
      <Icon name={muted ? 'micOff' : 'mic'} />
      <span className="control-label">{muted ? t.controls.unmuteShort : t.controls.muteShort}</span>
    </button>
  );
}

export function ControlBar() {
  const cameraOn = useSessionStore((s) => s.cameraOn);
  const sharing = useSessionStore((s) => s.sharing);
  const isHost = useSessionStore((s) => s.identity?.isHost ?? false);
  const selfId = useSessionStore((s) => s.identity?.selfAttendeeId ?? '');
  const capacity = useSessionStore((s) => s.videoCapacityReached);
  const panel = useUiStore((s) => s.panel);
  const togglePanel = useUiStore((s) => s.togglePanel);
  const setInviteOpen = useUiStore((s) => s.setInviteOpen);
  const layout = useUiStore((s) => s.layout);
  const setLayout = useUiStore((s) => s.setLayout);
  const pin = useUiStore((s) => s.pin);
  const unread = useChatStore((s) => s.unread);
  const handRaised = useLiveStore((s) => handPosition(s.live, selfId) > 0);
  const waiting = useLiveStore((s) => (isModerator(s.live) ? (s.live?.waiting.length ?? 0) : 0));
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
  const nextLayout = layout === 'grid' ? 'speaker' : 'grid';

  return (
    <nav className="control-bar" aria-label={t.controls.label}>
      {/* Reactions open as a row of their own above the buttons: the stage makes room, no tile name is covered. */}
      {menu === 'reactions' && (
        <div className="reaction-tray" role="menu" aria-label={t.controls.reactions} data-testid="reaction-tray">
          {REACTIONS.map((emoji) => (
            <button
              key={emoji}
              type="button"
              role="menuitem"
              className="reaction-button"
              aria-label={t.controls.reactWith(emoji)}
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
      <div className="control-row">
        <div className="control-group">
          <MuteButton />
          <button
            type="button"
            className={`control ${cameraOn ? '' : 'off'}`}
            aria-pressed={!cameraOn}
            aria-label={cameraOn ? t.controls.stopCamera(CAMERA_SHORTCUT_LABEL) : t.controls.startCamera(CAMERA_SHORTCUT_LABEL)}
            title={capacity && !cameraOn ? t.controls.capacityReached : undefined}
            onClick={() => void toggleCamera()}
            data-testid="camera-button"
          >
            <Icon name={cameraOn ? 'cam' : 'camOff'} />
            <span className="control-label">{cameraOn ? t.controls.stopVideo : t.controls.startVideo}</span>
          </button>
          <div className="popover-anchor">
            <button type="button" className="control" aria-label={t.controls.devicesLabel} aria-expanded={menu === 'devices'} onClick={() => toggleMenu('devices')}>
              <Icon name="gear" />
              <span className="control-label">{t.controls.devices}</span>
            </button>
            {menu === 'devices' && <DeviceMenu onClose={() => setMenu('none')} />}
          </div>
        </div>
        <div className="control-group">
          {canShare && (
            <button
              type="button"
              className={`control ${sharing ? 'active' : ''}`}
              aria-pressed={sharing}
              aria-label={sharing ? t.controls.stopShareLabel : t.controls.shareLabel}
              onClick={() => void toggleShare()}
              data-testid="share-button"
            >
              <Icon name="share" />
              <span className="control-label">{sharing ? t.controls.stopShare : t.controls.share}</span>
            </button>
          )}
          <button
            type="button"
            className={`control ${handRaised ? 'active' : ''}`}
            aria-pressed={handRaised}
            aria-label={handRaised ? t.controls.lowerHand : t.controls.raiseHand}
            onClick={() => void setHand(!handRaised)}
            data-testid="hand-button"
          >
            <Icon name="hand" />
            <span className="control-label">{handRaised ? t.controls.lowerHand : t.controls.hand}</span>
          </button>
          <button type="button" className={`control ${menu === 'reactions' ? 'active' : ''}`} aria-label={t.controls.reactLabel} aria-expanded={menu === 'reactions'} onClick={() => toggleMenu('reactions')} data-testid="react-button">
            <Icon name="smile" />
            <span className="control-label">{t.controls.react}</span>
          </button>
          <button
            type="button"
            className="control"
            aria-label={t.controls.layoutLabel(layout === 'grid' ? t.meeting.layoutGrid : t.meeting.layoutSpeaker)}
            title={t.controls.layoutLabel(layout === 'grid' ? t.meeting.layoutGrid : t.meeting.layoutSpeaker)}
            onClick={() => {
              if (nextLayout === 'grid') pin(undefined);
              setLayout(nextLayout);
            }}
            data-testid="layout-button"
            data-layout={layout}
          >
            <Icon name={layout === 'grid' ? 'grid' : 'spotlight'} />
            <span className="control-label">{layout === 'grid' ? t.meeting.layoutGrid : t.meeting.layoutSpeaker}</span>
          </button>
          <button type="button" className={`control ${panel === 'chat' ? 'active' : ''}`} aria-pressed={panel === 'chat'} aria-label={unread > 0 ? t.controls.chatUnread(unread) : t.controls.chat} onClick={() => togglePanel('chat')} data-testid="chat-button">
            <Icon name="chat" />
            <span className="control-label">{t.controls.chat}</span>
            {unread > 0 && (
              <span className="unread" data-testid="unread-badge">
                {unread > 99 ? '99+' : unread}
              </span>
            )}
          </button>
          <button
            type="button"
            className={`control ${panel === 'roster' ? 'active' : ''}`}
            aria-pressed={panel === 'roster'}
            aria-label={waiting > 0 ? `${t.controls.participantsLabel}, ${t.controls.waitingBadge(waiting)}` : t.controls.participantsLabel}
            onClick={() => togglePanel('roster')}
            data-testid="roster-button"
          >
            <Icon name="people" />
            <span className="control-label">{t.controls.people}</span>
            {waiting > 0 && (
              <span className="unread waiting" data-testid="waiting-badge">
                {waiting}
              </span>
            )}
          </button>
          <button type="button" className="control" aria-label={t.controls.inviteLabel} onClick={() => setInviteOpen(true)} data-testid="invite-button">
            <Icon name="link" />
            <span className="control-label">{t.controls.invite}</span>
          </button>
        </div>
        <div className="control-group">
          <div className="popover-anchor">
            <button
              type="button"
              className="control leave"
              aria-label={t.controls.leaveLabel}
              aria-expanded={isHost ? menu === 'leave' : undefined}
              onClick={() => (isHost ? toggleMenu('leave') : void leave())}
              data-testid="leave-button"
            >
              <Icon name="leave" />
              <span className="control-label">{t.controls.leave}</span>
            </button>
            {menu === 'leave' && (
              <div className="popover leave-menu" role="menu">
                <button type="button" role="menuitem" className="button" onClick={() => void leave()} data-testid="leave-only">
                  {t.controls.leaveOnly}
                </button>
                <button type="button" role="menuitem" className="button danger" onClick={() => void endForAll()} data-testid="end-for-all">
                  {t.controls.endForAll}
                </button>
              </div>
            )}
          </div>
        </div>
      </div>
    </nav>
  );
}
