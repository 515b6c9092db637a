/**
 * An incremental parser of `text/event-stream` (WHATWG HTML, "Server-sent events", the parsing rules):
 * feed it text as it arrives, get whole messages back. Lines end in LF, CRLF or CR; `:` lines are comments
 * (heartbeats); a blank line dispatches the message; messages without data are dropped, as browsers do.
 */
export interface SseMessage {
  /** `event:` field, "message" when absent. */
  event: string;
  data: string;
  /** `id:` field of this message, if it had one. */
  id: string | undefined;
  /** `retry:` field (ms), if it had one. */
  retry: number | undefined;
}

export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private retry: number | undefined;

  push(text: string): SseMessage[] {
    this.buffer += text;
    const out: SseMessage[] = [];
    let start = 0;
    for (;;) {
      let end = start;
      while (end < this.buffer.length) {
        const c = this.buffer.charCodeAt(end);
        if (c === 0x0a || c === 0x0d) break;
        end++;
      }
      if (end === this.buffer.length) break;
      // A CR at the end of what we have may be the first half of a CRLF: wait for the next chunk.
      if (this.buffer.charCodeAt(end) === 0x0d && end + 1 === this.buffer.length) break;
      const line = this.buffer.slice(start, end);
      const crlf = this.buffer.charCodeAt(end) === 0x0d && this.buffer.charCodeAt(end + 1) === 0x0a;
      start = end + (crlf ? 2 : 1);
      const m = this.line(line);
      if (m) out.push(m);
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') return this.dispatch();
    if (line.charCodeAt(0) === 0x3a) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
    }
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    const m: SseMessage | undefined =
      this.data.length === 0
        ? undefined
        : { event: this.event || 'message', data: this.data.join('\n'), id: this.id, retry: this.retry };
    this.event = '';
    this.data = [];
    this.id = undefined;
    this.retry = undefined;
    return m;
  }
}
