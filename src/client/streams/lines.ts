/** Splits a byte stream into UTF-8 text lines (LF or CRLF), holding at most one partial line. */
export async function* textLines(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let carry = '';
  for await (const chunk of chunks) {
    carry += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    let nl = carry.indexOf('\n');
    while (nl !== -1) {
      const end = nl > start && carry.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
      yield carry.slice(start, end);
      start = nl + 1;
      nl = carry.indexOf('\n', start);
    }
    carry = carry.slice(start);
  }
  carry += decoder.decode();
  if (carry !== '') yield carry;
}
