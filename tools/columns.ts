/**
 * Aligned text columns, as `status` and `rollback --list` print them: two spaces apart, the last column unpadded.
 */

/**
 * Renders `header` and `cells` as columns. A cell for which `spans(row, column)` is true (an error, a long reason)
 * runs past its column instead of widening that column for every row.
 */
export function formatColumns(header: string[], cells: string[][], spans: (row: number, column: number) => boolean = () => false): string {
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c, r) => (spans(r, i) ? 0 : c[i].length))));
    const line = (c: string[]) =>
        c
            .map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    return [line(header), ...cells.map(line)].join("\n") + "\n";
}
