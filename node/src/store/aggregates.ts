/**
 * Exact sums of decimal-text columns in SQL. Amounts are stored as decimal text because they
 * can exceed SQLite's 64-bit integers (uint256 face values), and SUM over text would coerce to
 * a 64-bit integer (overflowing at about 9.2 tokens in wei) or to a float. So each amount is
 * cut into 12-digit limbs from the right and each limb is summed as an integer: a limb is below
 * 10^12, so a limb's sum stays exact up to 9.2 million rows (2^63 / 10^12), far more winning
 * tickets than a journal holds. The limbs are then recombined with bigints.
 */

/** Digits per limb; see above for why 12. */
export const LIMB_DIGITS = 12;
/** Limbs enough for any uint256 (78 decimal digits). */
export const LIMBS = Math.ceil(78 / LIMB_DIGITS);

/**
 * The select-list terms summing the limbs of `column` (a decimal text column, no sign), named
 * `<alias>0` (least significant) to `<alias>{LIMBS-1}`. NULLs count as 0.
 */
export function limbSumColumns(column: string, alias: string): string {
  const terms: string[] = [];
  for (let k = 0; k < LIMBS; k++) {
    const right = k * LIMB_DIGITS; // digits to the right of this limb
    terms.push(
      `COALESCE(SUM(CASE WHEN length(${column}) > ${right} THEN CAST(substr(${column}, ` +
        `max(1, length(${column}) - ${right + LIMB_DIGITS - 1}), ` +
        `min(${LIMB_DIGITS}, length(${column}) - ${right})) AS INTEGER) ELSE 0 END), 0) ` +
        `AS ${alias}${k}`,
    );
  }
  return terms.join(", ");
}

/** Recombines the limb sums read from `row` (see limbSumColumns) into one exact bigint. */
export function limbSum(row: Record<string, unknown>, alias: string): bigint {
  const base = 10n ** BigInt(LIMB_DIGITS);
  let total = 0n;
  for (let k = LIMBS - 1; k >= 0; k--) {
    const value = row[`${alias}${k}`];
    const limb = typeof value === "bigint" ? value : typeof value === "number" ? BigInt(value) : 0n;
    total = total * base + limb;
  }
  return total;
}
