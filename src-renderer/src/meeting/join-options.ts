/** What the device check decided, carried into the meeting (and through the lobby). */
export interface JoinOptions {
  displayName: string;
  startMuted: boolean;
  cameraOn: boolean;
  noiseSuppression: boolean;
}
