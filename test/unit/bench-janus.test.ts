import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JanusProtocolError, parseJanusMessage, parseJanusPoll, pluginDataOrThrow } from '../../bench/compare/janus-api.js';
import { JANUS_PLUGINS_DIR, JANUS_TRANSPORTS_DIR, janusConfigFiles, UNUSED_PLUGINS, UNUSED_TRANSPORTS } from '../../bench/compare/janus-config.js';

const files = janusConfigFiles({ configDir: '/tmp/x', httpPort: 18123, rtpPortRange: [20000, 21999], audioBridgeRtpRange: [22000, 22999], iceAddress: '192.0.2.2' });

describe('generated Janus config', () => {
  it('binds the HTTP API to loopback on the given port, with admin off', () => {
    const http = files['janus.transport.http.jcfg']!;
    expect(http).toMatch(/\bip = "127\.0\.0\.1"/);
    expect(http).toMatch(/\bport = 18123\b/);
    expect(http).toMatch(/admin_http = false/);
    expect(http).toMatch(/https = false/);
  });

  it('gathers ICE on one address, without STUN, in its own port range', () => {
    const core = files['janus.jcfg']!;
    expect(core).toMatch(/ice_enforce_list = "192\.0\.2\.2"/);
    expect(core).not.toMatch(/stun_server/);
    expect(core).toMatch(/rtp_port_range = "20000-21999"/);
    expect(core).toMatch(/configs_folder = "\/tmp\/x"/);
    expect(files['janus.plugin.audiobridge.jcfg']).toMatch(/rtp_port_range = "22000-22999"/);
  });

  it('disables every plugin but VideoRoom and AudioBridge and every transport but HTTP', () => {
    const core = files['janus.jcfg']!;
    const disabled = (section: string): string[] => new RegExp(`${section}: \\{\\s*disable = "([^"]*)"`).exec(core)![1]!.split(',');
    expect(disabled('plugins')).toEqual(UNUSED_PLUGINS);
    expect(disabled('plugins')).not.toContain('libjanus_videoroom.so');
    expect(disabled('plugins')).not.toContain('libjanus_audiobridge.so');
    expect(disabled('transports')).toEqual(UNUSED_TRANSPORTS);
    expect(disabled('transports')).not.toContain('libjanus_http.so');
    // Against what the installed package really ships, where it is installed.
    if (existsSync(JANUS_PLUGINS_DIR)) {
      const shipped = readdirSync(JANUS_PLUGINS_DIR).filter((f) => f.endsWith('.so'));
      expect(shipped.filter((f) => !disabled('plugins').includes(f)).sort()).toEqual(['libjanus_audiobridge.so', 'libjanus_videoroom.so']);
    }
    if (existsSync(JANUS_TRANSPORTS_DIR)) {
      const shipped = readdirSync(JANUS_TRANSPORTS_DIR).filter((f) => f.endsWith('.so'));
      expect(shipped.filter((f) => !disabled('transports').includes(f))).toEqual(['libjanus_http.so']);
    }
  });
});

describe('Janus API messages', () => {
  it('parses replies, acks, plugin events with JSEP, errors and batched long-poll answers', () => {
    expect(parseJanusMessage({ janus: 'success', transaction: 't1', data: { id: 42 } })).toEqual({ janus: 'success', transaction: 't1', data: { id: 42 }, sender: undefined, plugindata: undefined });
    expect(parseJanusMessage({ janus: 'ack', transaction: 't2', session_id: 1 })).toEqual({ janus: 'ack', transaction: 't2' });
    const event = parseJanusMessage({
      janus: 'event', sender: 7, transaction: 't3',
      plugindata: { plugin: 'janus.plugin.audiobridge', data: { audiobridge: 'joined', id: 99 } },
      jsep: { type: 'answer', sdp: 'v=0\r\n' },
    });
    expect(event).toMatchObject({ janus: 'event', sender: 7, plugindata: { data: { id: 99 } }, jsep: { type: 'answer', sdp: 'v=0\r\n' } });
    expect(parseJanusMessage({ janus: 'error', transaction: 't4', error: { code: 458, reason: 'No such session' } })).toEqual({ janus: 'error', transaction: 't4', error: { code: 458, reason: 'No such session' } });
    expect(parseJanusPoll([{ janus: 'webrtcup', sender: 3 }, { janus: 'keepalive' }]).map((m) => m.janus)).toEqual(['webrtcup', 'keepalive']);
    expect(parseJanusPoll({ janus: 'hangup', sender: 3, reason: 'DTLS alert' })).toEqual([{ janus: 'hangup', sender: 3, transaction: undefined, reason: 'DTLS alert' }]);
  });

  it('rejects malformed messages with a precise error', () => {
    expect(() => parseJanusMessage('nope')).toThrow(JanusProtocolError);
    expect(() => parseJanusMessage({ janus: 'surprise' })).toThrow(/unknown Janus message 'surprise'/);
    expect(() => parseJanusMessage({ janus: 'event', plugindata: { plugin: 'x', data: {} } })).toThrow(/without sender/);
    expect(() => parseJanusMessage({ janus: 'event', sender: 1, plugindata: { plugin: 'x' } })).toThrow(/plugindata/);
    expect(() => parseJanusMessage({ janus: 'event', sender: 1, plugindata: { plugin: 'x', data: {} }, jsep: { type: 'pranswer', sdp: '' } })).toThrow(/jsep/);
    expect(() => parseJanusMessage({ janus: 'error', error: { code: 'x' } })).toThrow(/malformed error/);
  });

  it('turns a plugin-level error inside an event into an exception carrying its code', () => {
    expect(pluginDataOrThrow({ videoroom: 'joined', id: 5 })).toEqual({ videoroom: 'joined', id: 5 });
    try {
      pluginDataOrThrow({ videoroom: 'event', error_code: 426, error: 'No such room' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(JanusProtocolError);
      expect((error as JanusProtocolError).code).toBe(426);
      expect((error as Error).message).toMatch(/No such room/);
    }
  });
});
