// Offline maze generator writing the `source,q,a,rating` CSV the Maze builder reads.
// q: side*side chars, '#' wall, ' ' open, 'S' start, 'G' goal; a: q with the cells of the
// shortest S->G path (endpoints excluded) marked 'o'; rating: that path's length in moves.
// Walls come from a carved maze with a few loops (default) or independent random walls
// (Searchformer-like); "hard" = a minimum shortest-path length (HRM's Maze-Hard uses > 110 on 30x30).
import * as fs from "fs";
import * as path from "path";
import { DatasetError } from "../errors";
import { Rng } from "../random";
import { progress } from "../progress";
import { writePuzzleCsv } from "../csv";

export interface MazeGenConfig {
  outputDir: string;
  size?: number; // side length, default 30
  numTrain?: number;
  numTest?: number;
  /** Shortest path must have at least this many moves (default 110, the "hard" setting). */
  minPathLength?: number;
  /** "carved" (default) or "random"; see MazeOptions. */
  style?: MazeStyle;
  /** "random" style: fraction of cells that are walls; default drawn per maze from [0.3, 0.5]. */
  wallDensity?: number;
  /** "carved" style: fraction of inner walls removed to make loops (default 0.05). */
  loopFraction?: number;
  /** Only keep mazes whose shortest path is unique, so the label is unambiguous (default true). */
  uniquePath?: boolean;
  seed?: number;
  verbose?: boolean;
}

export interface Maze {
  q: string;
  a: string;
  pathLength: number;
}

const DIRS: [number, number][] = [[-1, 0], [1, 0], [0, -1], [0, 1]];

/** Breadth-first distances (−1 = unreachable) and shortest-path counts (capped at 2) from `start`. */
export function bfs(open: Uint8Array, side: number, start: number): { dist: Int32Array; ways: Uint8Array } {
  const dist = new Int32Array(side * side).fill(-1);
  const ways = new Uint8Array(side * side);
  const queue = new Int32Array(side * side);
  let head = 0;
  let tail = 0;
  dist[start] = 0;
  ways[start] = 1;
  queue[tail++] = start;
  while (head < tail) {
    const u = queue[head++];
    const r = Math.floor(u / side);
    const c = u % side;
    for (const [dr, dc] of DIRS) {
      const nr = r + dr;
      const nc = c + dc;
      if (nr < 0 || nc < 0 || nr >= side || nc >= side) continue;
      const v = nr * side + nc;
      if (!open[v]) continue;
      if (dist[v] < 0) {
        dist[v] = dist[u] + 1;
        ways[v] = ways[u];
        queue[tail++] = v;
      } else if (dist[v] === dist[u] + 1) {
        ways[v] = Math.min(2, ways[v] + ways[u]);
      }
    }
  }
  return { dist, ways };
}

export type MazeStyle = "carved" | "random";

export interface MazeOptions {
  minPathLength: number;
  /** "carved": a depth-first-carved perfect maze with `loopFraction` of its inner walls knocked
   *  out (long corridors, fast to make hard); "random": independent random walls (Searchformer-like,
   *  long paths are rare there). */
  style: MazeStyle;
  wallDensity?: number;
  loopFraction: number;
  uniquePath: boolean;
}

/** Open cells of a depth-first-carved maze: rooms on even coordinates, passages between them. */
function carveOpen(side: number, rng: Rng, loopFraction: number): Uint8Array {
  const open = new Uint8Array(side * side);
  const cellsPerSide = Math.floor((side + 1) / 2);
  const seen = new Uint8Array(cellsPerSide * cellsPerSide);
  const stack: number[] = [rng.int(0, seen.length)];
  seen[stack[0]] = 1;
  const at = (cr: number, cc: number) => 2 * cr * side + 2 * cc;
  open[at(Math.floor(stack[0] / cellsPerSide), stack[0] % cellsPerSide)] = 1;
  while (stack.length > 0) {
    const cur = stack[stack.length - 1];
    const cr = Math.floor(cur / cellsPerSide);
    const cc = cur % cellsPerSide;
    const next = rng.shuffle(DIRS.slice()).map(([dr, dc]) => [cr + dr, cc + dc])
      .find(([r, c]) => r >= 0 && c >= 0 && r < cellsPerSide && c < cellsPerSide && !seen[r * cellsPerSide + c]);
    if (!next) { stack.pop(); continue; }
    const [nr, nc] = next;
    seen[nr * cellsPerSide + nc] = 1;
    open[at(nr, nc)] = 1;
    open[(cr + nr) * side + (cc + nc)] = 1; // the wall between the two rooms
    stack.push(nr * cellsPerSide + nc);
  }
  // Knock out some remaining walls between two rooms to create loops.
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      const betweenRows = r % 2 === 1 && c % 2 === 0 && r + 1 < side;
      const betweenCols = c % 2 === 1 && r % 2 === 0 && c + 1 < side;
      if ((betweenRows || betweenCols) && !open[r * side + c] && rng.random() < loopFraction) open[r * side + c] = 1;
    }
  }
  return open;
}

/** One maze meeting the constraints, or null if this wall layout does not allow one. */
export function generateMaze(side: number, rng: Rng, options: MazeOptions): Maze | null {
  const { minPathLength, uniquePath } = options;
  let open: Uint8Array;
  if (options.style === "carved") {
    open = carveOpen(side, rng, options.loopFraction);
  } else {
    const density = options.wallDensity ?? 0.3 + 0.2 * rng.random();
    open = new Uint8Array(side * side);
    for (let i = 0; i < open.length; i++) open[i] = rng.random() >= density ? 1 : 0;
  }
  const openCells: number[] = [];
  for (let i = 0; i < open.length; i++) if (open[i]) openCells.push(i);
  if (openCells.length < 2) return null;
  const start = openCells[rng.int(0, openCells.length)];
  const { dist, ways } = bfs(open, side, start);
  const goals = openCells.filter((i) => dist[i] >= Math.max(1, minPathLength) && (!uniquePath || ways[i] === 1));
  if (goals.length === 0) return null;
  const goal = goals[rng.int(0, goals.length)];

  // Walk back from the goal along strictly decreasing distance (unique when ways == 1).
  const onPath = new Uint8Array(side * side);
  for (let u = goal; u !== start;) {
    const r = Math.floor(u / side);
    const c = u % side;
    let next = -1;
    for (const [dr, dc] of DIRS) {
      const nr = r + dr;
      const nc = c + dc;
      if (nr < 0 || nc < 0 || nr >= side || nc >= side) continue;
      const v = nr * side + nc;
      if (open[v] && dist[v] === dist[u] - 1) { next = v; break; }
    }
    u = next;
    if (u !== start) onPath[u] = 1;
  }
  let q = "";
  let a = "";
  for (let i = 0; i < open.length; i++) {
    const ch = i === start ? "S" : i === goal ? "G" : open[i] ? " " : "#";
    q += ch;
    a += onPath[i] ? "o" : ch;
  }
  return { q, a, pathLength: dist[goal] };
}

const MAX_TRIES = 10000; // consecutive failed wall fields before giving up

/** Writes `<outputDir>/train.csv` and `test.csv` with distinct mazes. */
export function generateMazeCsv(config: MazeGenConfig): { train: number; test: number } {
  const side = config.size ?? 30;
  const minLen = config.minPathLength ?? 110;
  const uniquePath = config.uniquePath ?? true;
  if (!Number.isInteger(side) || side < 2) throw new DatasetError(`--size must be an integer >= 2 but received ${side}`, { field: "--size" });
  if (config.wallDensity !== undefined && !(config.wallDensity >= 0 && config.wallDensity < 1)) {
    throw new DatasetError(`--wall-density must be in [0, 1) but received ${config.wallDensity}`, { field: "--wall-density" });
  }
  const style = config.style ?? "carved";
  if (style !== "carved" && style !== "random") throw new DatasetError(`--style must be "carved" or "random" but received ${JSON.stringify(style)}`, { field: "--style" });
  const options: MazeOptions = { minPathLength: minLen, style, wallDensity: config.wallDensity, loopFraction: config.loopFraction ?? 0.05, uniquePath };
  const rng = new Rng(config.seed ?? 0);
  const seen = new Set<string>();
  fs.mkdirSync(config.outputDir, { recursive: true });
  const source = `trm-gen-maze-${side}x${side}-min${minLen}`;

  const rows = (split: string, count: number) => {
    const bar = progress(`gen-maze ${split}`, count, { enabled: config.verbose ?? true });
    const out: { source: string; q: string; a: string; rating: number }[] = [];
    let failures = 0;
    while (out.length < count) {
      const m = generateMaze(side, rng, options);
      if (!m || seen.has(m.q)) {
        if (++failures > MAX_TRIES) {
          throw new DatasetError(`could not make a ${side}x${side} maze with a shortest path of at least ${minLen} moves; lower --min-path-length`, { field: "--min-path-length" });
        }
        continue;
      }
      failures = 0;
      seen.add(m.q);
      out.push({ source, q: m.q, a: m.a, rating: m.pathLength });
      bar.tick(out.length);
    }
    bar.done();
    return out;
  };
  const train = writePuzzleCsv(path.join(config.outputDir, "train.csv"), rows("train", config.numTrain ?? 1000));
  const test = writePuzzleCsv(path.join(config.outputDir, "test.csv"), rows("test", config.numTest ?? 1000));
  return { train, test };
}
