/**
 * Every point of a collection (or of a filter), page by page, as an async iterator. Each page is an
 * ordinary scroll call — deadline per page, retried like any read. Pages follow `next_page_offset` in id
 * order, so a point written behind the cursor while the scroll runs is not seen, and one ahead of it is.
 */
import type { PointRecord, ScrollRequest, ScrollResult } from '../../protocol/wire.js';
import type { CallOptions } from '../call.js';

export interface ScrollAllOptions extends CallOptions {
  /** Points per request. Default 256. */
  pageSize?: number;
}

export async function* scrollAll(
  scroll: (request: ScrollRequest, options: CallOptions) => Promise<ScrollResult>,
  request: Omit<ScrollRequest, 'limit'>,
  options: ScrollAllOptions = {},
): AsyncGenerator<PointRecord, void, undefined> {
  const { pageSize = 256, ...call } = options;
  // A scroll walks the data as it is: a cached page would be a page of the past.
  const pageOptions: CallOptions = { ...call, cache: false };
  let offset = request.offset ?? null;
  do {
    const page = await scroll({ ...request, offset, limit: pageSize }, pageOptions);
    yield* page.points;
    offset = page.next_page_offset;
  } while (offset !== null);
}
