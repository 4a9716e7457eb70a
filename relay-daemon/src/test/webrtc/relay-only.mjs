// Two RTCPeerConnections in one headless Chromium page, each allowed only relay candidates from the TURN
// server given on the command line, open a data channel and echo messages. Prints one JSON line with what
// happened; exits 0 only when every message came back over a relay-relay candidate pair.
//
//   node relay-only.mjs TURN_IP TURN_PORT USERNAME PASSWORD [URL_OF_A] [METRICS_URL]
//
// With URL_OF_A (turns:IP:PORT?transport=tcp, or turn:IP:PORT?transport=tcp), peer connection a reaches the
// relay over that instead, while b stays on UDP: a browser on TLS or TCP talking to one on UDP.
// With METRICS_URL (the relay's /metrics), the relay's drop counters are read once the echo is done and before
// either connection closes, so that what a teardown does (a send to a port just closed) is not counted: they
// come back as "dropsDuringCall".
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [ip, port, username, credential, urlOfA, metricsUrl] = process.argv.slice(2);
const messages = 50;
const profile = mkdtempSync(join(tmpdir(), 'turnpike-chromium-'));
// A fresh profile directory each run (playwright passes it to Chromium as --user-data-dir).
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
    '--disable-features=WebRtcHideLocalIpsWithMdns',
    // the relay's TLS certificate is made by the test, self-signed
    '--ignore-certificate-errors',
  ],
});
let result;
try {
  const page = await browser.newPage();
  result = await page.evaluate(async ({ ip, port, username, credential, messages, urlOfA }) => {
    const config = {
      iceServers: [{ urls: `turn:${ip}:${port}?transport=udp`, username, credential }],
      iceTransportPolicy: 'relay',
    };
    const configOfA = urlOfA
      ? { iceServers: [{ urls: urlOfA, username, credential }], iceTransportPolicy: 'relay' }
      : config;
    const a = new RTCPeerConnection(configOfA);
    const b = new RTCPeerConnection(config);
    const candidates = { a: [], b: [] };
    a.onicecandidate = (e) => { if (e.candidate) { candidates.a.push(e.candidate.type); b.addIceCandidate(e.candidate); } };
    b.onicecandidate = (e) => { if (e.candidate) { candidates.b.push(e.candidate.type); a.addIceCandidate(e.candidate); } };
    b.ondatachannel = (e) => { e.channel.onmessage = (m) => e.channel.send('echo:' + m.data); };
    const channel = a.createDataChannel('turnpike');
    const opened = new Promise((resolve, reject) => {
      channel.onopen = resolve;
      setTimeout(() => reject(new Error('data channel did not open in 20 s; ICE state ' + a.iceConnectionState)), 20000);
    });
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription);
    try {
      await opened;
    } catch (e) {
      return { ok: false, error: String(e), candidates };
    }
    let echoed = 0;
    const done = new Promise((resolve) => {
      channel.onmessage = (m) => { if (m.data.startsWith('echo:')) { echoed++; if (echoed === messages) resolve(); } };
      setTimeout(resolve, 10000);
    });
    for (let i = 0; i < messages; i++) channel.send('message ' + i);
    await done;
    const stats = await a.getStats();
    let pair = null;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
    });
    const local = pair && stats.get(pair.localCandidateId);
    const remote = pair && stats.get(pair.remoteCandidateId);
    return {
      ok: echoed === messages && local?.candidateType === 'relay' && remote?.candidateType === 'relay',
      sent: messages,
      echoed,
      localCandidate: local && { type: local.candidateType, address: local.address, port: local.port, relayProtocol: local.relayProtocol },
      remoteCandidate: remote && { type: remote.candidateType, address: remote.address, port: remote.port },
      candidates,
    };
  }, { ip, port, username, credential, messages, urlOfA });
  if (metricsUrl) {
    // the relay publishes its counters once a second: wait for a snapshot taken after the echo ended
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const text = await (await fetch(metricsUrl)).text();
    const drops = {};
    for (const m of text.matchAll(/^turnpike_dropped_packets_total\{reason="(\w+)"\} (\d+)$/gm)) {
      drops[m[1]] = (drops[m[1]] ?? 0) + Number(m[2]);
    }
    result.dropsDuringCall = drops;
  }
} catch (e) {
  result = { ok: false, error: String(e) };
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
