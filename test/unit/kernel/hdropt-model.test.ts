// Header options end to end: the simulator's modeled TCP headers through the emulator
// (test/kernel/progs/hdropt_rw.bpf.o): bpf_reserve_hdr_opt at HDR_OPT_LEN_CB, bpf_store_hdr_opt
// and a load of the stored option at WRITE_HDR_OPT_CB (net/core/filter.c
// bpf_sock_ops_store_hdr_opt: skb_data_end moves, a second store of the kind is -EEXIST), the
// timestamp option at PARSE_HDR_OPT_CB and PASSIVE_ESTABLISHED_CB (bpf_sock_ops_load_hdr_opt).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Simulation } from '../../../debugger/sim';
import { table } from '../../../sockops';

const OBJ = resolve(dirname(fileURLToPath(import.meta.url)), '../../kernel/progs/hdropt_rw.bpf.o');
const t = table('linux-7.1.5');
const OP = (n: string) => t.op(n)!.value;

function run(steps: unknown[], socket: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'hdropt-'));
  try {
    const file = join(dir, 's.scenario.json');
    writeFileSync(file, JSON.stringify({ program: OBJ, profile: 'linux-7.1.5', socket: { family: 'inet', peerIsn: 1000, ...socket }, stream: [{ zeros: 300 }], steps }));
    const sim = Simulation.fromFile(file);
    const results = sim.runAll().results;
    const m = sim.kernel.maps().find((x) => x.def.name === 'res')!;
    const v = new Map<number, number>();
    for (const e of m.entries()) v.set(new DataView(e.key.buffer, e.key.byteOffset).getUint32(0, true), new DataView(e.value.buffer, e.value.byteOffset).getInt32(0, true));
    const at = (op: string, i: number) => v.get(OP(op) * 4 + i);
    return { at, results, sim };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the SYN-ACK: the listener\'s WRITE_HDR_OPT_CB_FLAG and a reservation run WRITE_HDR_OPT_CB on the request sock, its option goes out', () => {
  const { results } = run([]);
  assert.ok(results[0]!.text.includes('WRITE_HDR_OPT_CB (SYN-ACK)'), results[0]!.text);
  assert.ok(results[0]!.text.includes('SYN-ACK carries the program\'s header options fd04eb9f'), results[0]!.text);
});

test('WRITE_HDR_OPT_CB: store appends at skb_data_end, the option loads back, a duplicate is -EEXIST', () => {
  const { at, results } = run([{ send: 100 }]);
  assert.equal(at('HDR_OPT_LEN_CB', 0), 0, 'reserve 8 of the 28 bytes an ACK leaves');
  assert.equal(at('HDR_OPT_LEN_CB', 1), 0, 'args[0] 0: an skb is being sent');
  assert.equal(at('HDR_OPT_LEN_CB', 2), 0, 'skb->len: the header is not pushed yet, no payload');
  assert.equal(at('WRITE_HDR_OPT_CB', 0), 0);
  assert.equal(at('WRITE_HDR_OPT_CB', 1), 4, 'the stored option is found: its length');
  assert.equal(at('WRITE_HDR_OPT_CB', 2), -17, 'same kind and magic again, room left: -EEXIST (the space check comes first)');
  assert.equal(at('WRITE_HDR_OPT_CB', 3), 36, 'skb_data_end moved past the stored option: 20 + 12 + 4');
  assert.ok(results.some((r) => /carries the program's header options fd04eb9f/.test(r.text)), results.map((r) => r.text).join('\n'));
});

test('PASSIVE_ESTABLISHED_CB and PARSE_HDR_OPT_CB see the peer\'s header: timestamps found, skb_len the header', () => {
  const { at } = run([{ segment: { offset: 100, len: 100 } }], { peerOptions: '01010101' });
  assert.equal(at('PASSIVE_ESTABLISHED_CB', 0), 36, 'the final ACK: 20 + 12 timestamps + 4 peer NOPs');
  assert.equal(at('PASSIVE_ESTABLISHED_CB', 1), 10, 'TCPOPT_TIMESTAMP, 10 bytes, into 12');
  assert.equal(at('PASSIVE_ESTABLISHED_CB', 2), 1, 'rcv_nxt and snd_nxt are the ISNs + 1');
  assert.equal(at('PASSIVE_ESTABLISHED_CB', 3), 50 << 3, 'srtt_us << 3 after the handshake sample');
  assert.equal(at('PARSE_HDR_OPT_CB', 0), 10);
  assert.equal(at('PARSE_HDR_OPT_CB', 1), 1);
  assert.equal(at('PARSE_HDR_OPT_CB', 2), 136, 'skb->len: header 36 + 100 bytes');
  assert.equal(at('PARSE_HDR_OPT_CB', 3), 0x18, 'ACK|PSH');
});

test('in-order data with timestamps only takes the fast path: no PARSE_HDR_OPT_CB', () => {
  const { at } = run([{ send: 100 }]);
  assert.equal(at('PARSE_HDR_OPT_CB', 0), 0, 'the array map slot was never written');
  assert.equal(at('PARSE_HDR_OPT_CB', 2), 0);
});
