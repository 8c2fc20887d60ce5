// Minimal CSV reading/writing for the puzzle CSVs (`source,q,a,rating`). Streams lines so the
// multi-hundred-megabyte Sudoku files never become one JS string. Quoted fields are supported;
// a newline inside quotes is not (the puzzle CSVs never have one).
import * as fs from "fs";
import { DatasetError } from "./errors";

export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (line[i] === '"') {
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new DatasetError(`unterminated quoted CSV field in: ${line.slice(0, 80)}`);
        field += line.slice(i, q);
        i = q + 1;
        if (line[i] === '"') { field += '"'; i++; } else break;
      }
    } else {
      const c = line.indexOf(",", i);
      field = line.slice(i, c < 0 ? line.length : c);
      i = c < 0 ? line.length : c;
    }
    fields.push(field);
    if (line[i] !== ",") return fields;
    i++;
  }
}

/** Yields the rows of a CSV file (header included) without reading it all at once. */
export function* readCsvRows(file: string): Generator<string[]> {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    throw new DatasetError(`cannot open CSV: ${(e as Error).message}`, { file });
  }
  try {
    const chunk = Buffer.alloc(1 << 20);
    let rest = "";
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      // Split on the last newline so multi-byte chars never straddle a decode.
      const lastNl = chunk.lastIndexOf(0x0a, n - 1);
      if (lastNl < 0) { rest += chunk.toString("utf8", 0, n); continue; }
      const lines = (rest + chunk.toString("utf8", 0, lastNl)).split("\n");
      rest = chunk.toString("utf8", lastNl + 1, n);
      for (const line of lines) {
        const l = line.endsWith("\r") ? line.slice(0, -1) : line;
        if (l.length > 0) yield parseCsvLine(l);
      }
    }
    const l = rest.endsWith("\r") ? rest.slice(0, -1) : rest;
    if (l.length > 0) yield parseCsvLine(l);
  } finally {
    fs.closeSync(fd);
  }
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Writes `source,q,a,rating` rows with a header, as the published puzzle CSVs have. */
export function writePuzzleCsv(file: string, rows: Iterable<{ source: string; q: string; a: string; rating: number }>): number {
  const fd = fs.openSync(file, "w");
  let count = 0;
  try {
    fs.writeSync(fd, "source,q,a,rating\n");
    let buf = "";
    for (const r of rows) {
      buf += `${csvField(r.source)},${csvField(r.q)},${csvField(r.a)},${r.rating}\n`;
      count++;
      if (buf.length > 1 << 20) { fs.writeSync(fd, buf); buf = ""; }
    }
    fs.writeSync(fd, buf);
  } finally {
    fs.closeSync(fd);
  }
  return count;
}

/** Iterates the data rows of a puzzle CSV, checking the 4-column shape. */
export function* readPuzzleCsv(file: string): Generator<{ source: string; q: string; a: string; rating: string; line: number }> {
  let line = 0;
  for (const row of readCsvRows(file)) {
    line++;
    if (line === 1) continue; // header
    if (row.length !== 4) throw new DatasetError(`line ${line}: expected 4 columns source,q,a,rating but found ${row.length}`, { file });
    yield { source: row[0], q: row[1], a: row[2], rating: row[3], line };
  }
}
