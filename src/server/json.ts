/** The u64-safe JSON codec lives in protocol (the client shares it); the server uses it from there. */
export { parseJson, stringifyJson } from '../protocol/json.js';
