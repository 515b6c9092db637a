/** Qdrant's filter language, the subset surgevec supports (docs/API.md lists it). */

export interface Filter {
  must?: Condition | Condition[] | null;
  should?: Condition | Condition[] | null;
  must_not?: Condition | Condition[] | null;
}

export type MatchValue = string | number | boolean;

export type Match = { value: MatchValue } | { any: (string | number)[] } | { except: (string | number)[] };

export interface Range {
  gt?: number | null;
  gte?: number | null;
  lt?: number | null;
  lte?: number | null;
}

export interface FieldCondition {
  key: string;
  match?: Match;
  range?: Range;
}

export interface IsEmptyCondition {
  is_empty: { key: string };
}

export interface IsNullCondition {
  is_null: { key: string };
}

export interface HasIdCondition {
  /** Point ids (u64 number/bigint or UUID string); spelled out to keep this file free of imports. */
  has_id: (number | bigint | string)[];
}

/** A nested filter is itself a condition (Qdrant allows `{ must: [...] }` inside `should`). */
export type Condition = FieldCondition | IsEmptyCondition | IsNullCondition | HasIdCondition | Filter;
