/**
 * JSON text for values that may hold bigints (token amounts in wei): they are written as
 * decimal strings, since JSON numbers lose precision past 2^53.
 */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v),
    indent,
  );
}
