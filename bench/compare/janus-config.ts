/**
 * Janus configuration generated for the comparison: loopback only, no STUN, only the
 * HTTP transport and the VideoRoom and AudioBridge plugins. Pure, so it is unit tested.
 */

export const JANUS_PLUGINS_DIR = '/usr/lib/x86_64-linux-gnu/janus/plugins';
export const JANUS_TRANSPORTS_DIR = '/usr/lib/x86_64-linux-gnu/janus/transports';

/** Plugins and transports the Debian package ships besides the ones we use; each is disabled. */
export const UNUSED_PLUGINS = [
  'libjanus_duktape.so', 'libjanus_echotest.so', 'libjanus_lua.so', 'libjanus_nosip.so', 'libjanus_recordplay.so',
  'libjanus_sip.so', 'libjanus_streaming.so', 'libjanus_textroom.so', 'libjanus_videocall.so', 'libjanus_voicemail.so',
];
export const UNUSED_TRANSPORTS = ['libjanus_websockets.so', 'libjanus_pfunix.so', 'libjanus_mqtt.so', 'libjanus_rabbitmq.so', 'libjanus_nanomsg.so'];

export interface JanusConfigOptions {
  configDir: string;
  httpPort: number;
  /** UDP range for ICE; the bench gives each run its own. */
  rtpPortRange: [number, number];
  /** Where plain-RTP AudioBridge participants get their ports, kept apart from ICE's. */
  audioBridgeRtpRange: [number, number];
  /**
   * The one address Janus gathers ICE candidates on. Janus skips loopback interfaces when
   * gathering (with only `lo` allowed, libnice falls back to every interface), so this is the
   * machine's own IPv4 address; traffic between two local addresses still stays in the kernel.
   */
  iceAddress: string;
  /** Where the HTTP API listens (default 127.0.0.1; the constrained bench's viewers reach it from their namespaces). */
  httpAddress?: string;
  debugLevel?: number;
}

/** libconfig-style string literal. */
const str = (s: string): string => JSON.stringify(s);

/** The files to write into `configDir`, by name. */
export function janusConfigFiles(o: JanusConfigOptions): Record<string, string> {
  const jcfg = `general: {
\tconfigs_folder = ${str(o.configDir)}
\tplugins_folder = ${str(JANUS_PLUGINS_DIR)}
\ttransports_folder = ${str(JANUS_TRANSPORTS_DIR)}
\tdebug_level = ${o.debugLevel ?? 3}
\tsession_timeout = 120
\thide_dependencies = true
}
certificates: {
}
media: {
\trtp_port_range = "${o.rtpPortRange[0]}-${o.rtpPortRange[1]}"
}
nat: {
\tice_enforce_list = ${str(o.iceAddress)}
\tice_lite = false
\tignore_mdns = true
}
plugins: {
\tdisable = ${str(UNUSED_PLUGINS.join(','))}
}
transports: {
\tdisable = ${str(UNUSED_TRANSPORTS.join(','))}
}
loggers: {
\tdisable = "libjanus_jsonlog.so"
}
events: {
\tbroadcast = false
}
`;
  const http = `general: {
\tjson = "plain"
\tbase_path = "/janus"
\thttp = true
\tport = ${o.httpPort}
\tip = ${str(o.httpAddress ?? '127.0.0.1')}
\thttps = false
}
admin: {
\tadmin_http = false
\tadmin_https = false
}
`;
  const videoroom = `general: {
\tevents = false
}
`;
  const audiobridge = `general: {
\tevents = false
\trtp_port_range = "${o.audioBridgeRtpRange[0]}-${o.audioBridgeRtpRange[1]}"
\tlocal_ip = "127.0.0.1"
}
`;
  return {
    'janus.jcfg': jcfg,
    'janus.transport.http.jcfg': http,
    'janus.plugin.videoroom.jcfg': videoroom,
    'janus.plugin.audiobridge.jcfg': audiobridge,
  };
}
