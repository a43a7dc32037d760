import type { Invite } from '../shared/invite-link.js';
import { parseInviteLink, type InviteParseResult } from '../shared/invite-link.js';

/**
 * chorus:// invite links opened from outside the app. macOS delivers them with
 * the `open-url` event; Windows and Linux start a second instance with the link
 * in its argv, which the single-instance lock turns into `second-instance` in
 * the running one. Either way the invite ends up in the DeepLinkRouter.
 */

export const DEEP_LINK_SCHEME = 'chorus';

/** The first chorus: argument of a command line, parsed; undefined when there is none. */
export function inviteFromArgv(argv: readonly string[]): InviteParseResult | undefined {
  // Arguments before the link can be Electron/Chromium switches or the app path; a link never starts with '-'.
  const link = argv.find((arg) => /^chorus:/i.test(arg.trim()));
  return link === undefined ? undefined : parseInviteLink(link);
}

/**
 * Delivers invites to the renderer. Until the page has subscribed (its preload
 * asked for the pending link), the latest invite is held instead of being sent
 * into a page that is still loading and would drop it.
 */
export class DeepLinkRouter {
  private pending: Invite | null = null;
  private rendererListening = false;

  constructor(
    private readonly send: (invite: Invite) => boolean,
    private readonly onInvalid: (error: string) => void,
  ) {}

  receive(result: InviteParseResult | undefined): void {
    if (!result) return;
    if (!result.ok) {
      this.onInvalid(result.error);
      return;
    }
    if (this.rendererListening && this.send(result.invite)) return;
    this.pending = result.invite;
  }

  /** The preload subscribed: hand over what waited, and send later invites directly. */
  takePending(): Invite | null {
    this.rendererListening = true;
    const invite = this.pending;
    this.pending = null;
    return invite;
  }

  /** The page reloaded or closed: hold invites again until it subscribes anew. */
  rendererGone(): void {
    this.rendererListening = false;
  }
}
