/**
 * Plain aligned columns for people: a header row, cells padded with spaces, two spaces between
 * columns, no borders — readable in a terminal, in a log and through grep/awk. With `color`
 * (stdout is a terminal) headers are bold and styled cells coloured; widths are computed from
 * the text alone, so colouring never shifts a column.
 */
export interface Column {
  readonly header: string;
  /** Numbers read best right-aligned. Default "left". */
  readonly align?: "left" | "right";
}

export type Style = "red" | "green" | "yellow" | "dim";
export type Cell = string | { readonly text: string; readonly style: Style | undefined };

export interface TableOptions {
  readonly color?: boolean;
  /** Put before every line. Default "". */
  readonly indent?: string;
}

const GAP = "  ";
const SGR: Readonly<Record<Style | "bold", string>> = { red: "31", green: "32", yellow: "33", dim: "2", bold: "1" };

/** The table as lines joined by "\n" (no trailing newline); trailing spaces are trimmed. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly Cell[])[], options: TableOptions = {}): string {
  const widths = columns.map((column, index) => Math.max(column.header.length, ...rows.map((row) => textOf(row[index]).length)));
  const color = options.color === true;
  const line = (cells: readonly Cell[], header: boolean): string => {
    const parts = columns.map((column, index) => {
      const cell = cells[index] ?? "";
      const text = textOf(cell);
      const padding = " ".repeat(widths[index]! - text.length);
      const styled = !color ? text : header ? paint(text, "bold") : typeof cell === "string" || cell.style === undefined ? text : paint(text, cell.style);
      return column.align === "right" ? padding + styled : styled + padding;
    });
    return (options.indent ?? "") + parts.join(GAP).trimEnd();
  };
  return [line(columns.map((column) => column.header), true), ...rows.map((row) => line(row, false))].join("\n");
}

export function paint(text: string, style: Style | "bold"): string {
  return `\u001b[${SGR[style]}m${text}\u001b[0m`;
}

function textOf(cell: Cell | undefined): string {
  if (cell === undefined) return "";
  return typeof cell === "string" ? cell : cell.text;
}

/** 0 → "-", else B / KiB / MiB / GiB with one decimal above bytes. */
export function formatBytes(bytes: number | bigint): string {
  const value = Number(bytes);
  if (value <= 0) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let scaled = value;
  let unit = 0;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${scaled.toFixed(1)} ${units[unit]}`;
}

/** A duration as an operator reads it: "850ms", "42s", "5m07s", "3h05m", "2d04h". Negative → "0s". */
export function formatDuration(ms: number): string {
  if (!(ms > 0)) return "0s";
  if (ms < 1000) return `${Math.floor(ms)}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${pad2(seconds % 60)}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${pad2(minutes % 60)}m`;
  return `${Math.floor(hours / 24)}d${pad2(hours % 24)}h`;
}

function pad2(value: number): string {
  return value.toString().padStart(2, "0");
}
