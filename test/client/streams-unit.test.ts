/**
 * The streaming pieces that need no server: the SSE parser against the spec's corner cases, the line
 * splitter, point encoding, and the ingest tracker driven by answer lines in exactly the order the
 * server's NDJSON route emits them.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { IngestTracker } from '../../src/client/streams/ingest-tracker.js';
import { textLines } from '../../src/client/streams/lines.js';
import { encodePoint } from '../../src/client/streams/ndjson-ingest.js';
import { SseParser } from '../../src/client/streams/sse.js';
import { parseJson } from '../../src/protocol/json.js';

describe('SSE parser', () => {
  it('parses the change feed’s framing across arbitrary chunk boundaries', () => {
    const text =
      ': surgevec change feed\n\n' +
      'id: 42\nevent: upsert\ndata: {"seq":42}\n\n' +
      ': heartbeat\n\n' +
      'event: gap\ndata: {"from_seq":1,"oldest_seq":5}\n\n' +
      'id: 43\r\nevent: delete\r\ndata: {"seq":43}\r\n\r\n' +
      'data: line one\ndata: line two\n\n' +
      'data:no-space\nretry: 250\n\n' +
      'event: ignored-without-data\n\n';
    const whole = new SseParser().push(text);
    for (let size = 1; size <= 7; size++) {
      const p = new SseParser();
      const got = [];
      for (let i = 0; i < text.length; i += size) got.push(...p.push(text.slice(i, i + size)));
      expect(got).toEqual(whole);
    }
    expect(whole).toEqual([
      { event: 'upsert', data: '{"seq":42}', id: '42', retry: undefined },
      { event: 'gap', data: '{"from_seq":1,"oldest_seq":5}', id: undefined, retry: undefined },
      { event: 'delete', data: '{"seq":43}', id: '43', retry: undefined },
      { event: 'message', data: 'line one\nline two', id: undefined, retry: undefined },
      { event: 'message', data: 'no-space', id: undefined, retry: 250 },
    ]);
  });

  it('treats a lone CR as a line end, once it knows no LF follows', () => {
    const p = new SseParser();
    expect(p.push('data: a\r')).toEqual([]);
    expect(p.push('\r')).toEqual([]);
    expect(p.push('x')).toEqual([{ event: 'message', data: 'a', id: undefined, retry: undefined }]);
  });
});

describe('line splitting and encoding', () => {
  it('splits bytes into lines, with multi-byte characters cut across chunks', async () => {
    const bytes = Buffer.from('{"a":"é"}\r\n{"b":"😀"}\n\n{"c":1}');
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    const out: string[] = [];
    for await (const line of textLines(Readable.from(chunks))) out.push(line);
    expect(out).toEqual(['{"a":"é"}', '{"b":"😀"}', '', '{"c":1}']);
  });

  it('encodes Float32Array vectors and u64 ids exactly', () => {
    const line = encodePoint({
      id: 18446744073709551615n,
      vector: new Float32Array([0.5, -2, 0.1]),
      payload: { k: 'v' },
    });
    expect(line).toBe(
      `{"id":18446744073709551615,"vector":[0.5,-2,${Math.fround(0.1)}],"payload":{"k":"v"}}`,
    );
    expect(parseJson(line)).toEqual({
      id: 18446744073709551615n,
      vector: [0.5, -2, Math.fround(0.1)],
      payload: { k: 'v' },
    });
    expect(encodePoint({ id: 'u', vector: [1, 2] })).toBe('{"id":"u","vector":[1,2]}');
  });
});

describe('ingest tracker', () => {
  function sent(t: IngestTracker, n: number, from = 0) {
    for (let i = from; i < from + n; i++) t.send(i, `p${i}`);
  }

  it('settles exactly the acked batches, skipping refused lines', () => {
    // 10 lines; the route refuses lines 2 and 7 on reading; batches of 3 of the other lines are
    // [1 3 4] [5 6 8] [9 10]; the engine refuses line 5 of batch 2.
    const t = new IngestTracker();
    sent(t, 10);
    expect(t.refuse(2)?.index).toBe(1);
    expect(t.firstUnsettled).toBe(0);
    expect(t.ack(3)).toBe(true); // batch 1: lines 1 3 4 stored
    expect(t.firstUnsettled).toBe(4); // line 5
    expect(t.refuse(7)?.index).toBe(6); // read before batch 2 was done
    expect(t.firstUnsettled).toBe(4);
    expect(t.refuse(5)?.index).toBe(4); // the engine's refusal, just before batch 2's ack
    expect(t.firstUnsettled).toBe(5);
    expect(t.ack(2)).toBe(true); // batch 2: lines 6 8 stored
    expect(t.firstUnsettled).toBe(8); // line 9
    expect(t.unsettled).toBe(2);
    expect(t.ack(2)).toBe(true);
    expect(t.unsettled).toBe(0);
    expect(t.firstUnsettled).toBeUndefined();
  });

  it('resends after a break only what is unsettled and not refused, numbered from 1 again', () => {
    const t = new IngestTracker();
    sent(t, 6);
    t.ack(2); // lines 1 2
    expect(t.refuse(5)?.index).toBe(4); // beyond the settled prefix
    const again = t.restart();
    expect(again.map((e) => [e.index, e.line])).toEqual([
      [2, 1],
      [3, 2],
      [5, 3],
    ]);
    sent(t, 2, 6); // new lines continue the numbering: 4 and 5
    expect(t.refuse(4)?.index).toBe(6);
    expect(t.ack(3)).toBe(true);
    expect(t.firstUnsettled).toBe(7);
  });

  it('refuses answer lines that do not match what was sent', () => {
    const t = new IngestTracker();
    sent(t, 3);
    expect(t.refuse(9)).toBeUndefined();
    expect(t.refuse(1)?.index).toBe(0);
    expect(t.refuse(1)).toBeUndefined(); // twice
    expect(t.ack(3)).toBe(false); // only 2 lines left to store
  });
});
