// npm run bench: how synthesis scales with the size of the mesh.
//
// Generates specs of 2, 50, 200 and 500 services (Fargate, each with upstreams, plus deny
// intentions), compiles the app once (tsc into review/bench/dist, so the repo's dist/ and
// cdktf.out/ are untouched), then synthesizes the built-in default spec and every generated
// spec BENCH_RUNS times (default 5), each run a fresh `node main.js` process as `cdktf synth`
// starts it, with MESH_SPEC and CDKTF_OUTDIR pointing into a temp dir. Wall time is measured
// around the process, peak RSS by /usr/bin/time (%M), or, without it, by the child itself at
// exit (process.resourceUsage().maxRSS).
//
// Prints services, median wall s, median peak RSS MB and time(500)/time(50); exits 1 when a
// target is missed. Env: BENCH_RUNS, BENCH_SIZES (e.g. "2,50"), BENCH_KEEP=1 keeps the temp dir.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import type { MeshSpecInput } from "../lib/spec/schema";
import { PROJECT_ROOT, table } from "./support";

/** Targets on a 2-core machine (the numbers). */
const TARGETS = { defaultSpecSeconds: 0.5, largestSeconds: 3, largestRssMb: 600, ratio500to50: 12 } as const;

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5) || 5);
const SIZES = (process.env.BENCH_SIZES ?? "2,50,200,500").split(",").map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);

/**
 * A valid spec of n services: Fargate 256/512 with public IPs (no ENI budget on the EC2 hosts
 * to respect), a /20 subnet so 500 tasks have addresses, each service calling the next two,
 * and every tenth service denied to the one after it.
 */
export function generatedSpec(n: number): MeshSpecInput {
  const name = (i: number) => `svc-${String(i).padStart(4, "0")}`;
  const services: NonNullable<MeshSpecInput["services"]> = {};
  for (let i = 0; i < n; i++) {
    const upstreams = [1, 2]
      .map((step) => (i + step) % n)
      .filter((j, k, all) => j !== i && all.indexOf(j) === k)
      .map((j, k) => ({ destination: name(j), localBindPort: 9100 + k }));
    services[name(i)] = {
      image: "hashicorp/http-echo:1.0.0",
      port: 8080,
      command: ["-listen=127.0.0.1:8080", `-text=${name(i)}`],
      count: 1,
      launchType: "FARGATE",
      cpu: 256,
      memory: 512,
      healthCheck: { type: "http", path: "/", intervalSeconds: 10, timeoutSeconds: 2 },
      upstreams,
    };
  }
  const intentions = [];
  for (let i = 0; i + 3 < n; i += 10) intentions.push({ source: name(i), destination: name(i + 3), action: "deny" as const });
  return {
    name: `bench-${n}`,
    network: { vpcCidr: "10.0.0.0/16", zones: [{ privateSubnet: "10.0.0.0/20", publicSubnet: "10.0.16.0/28" }] },
    consul: { datacenter: "aws", serverInstanceType: "t3.micro", servers: 1, serverPrivateIps: ["10.0.0.100"] },
    ecsHosts: { instanceType: "t3.small", privateIps: ["10.0.0.150"] },
    services,
    intentions,
  };
}

interface Sample {
  readonly seconds: number;
  readonly rssMb: number;
  /** User + system CPU seconds: less sensitive than wall time to other load on the machine. */
  readonly cpuSeconds: number;
}

interface Row {
  readonly label: string;
  readonly services: number;
  readonly samples: readonly Sample[];
  readonly resources: number;
  readonly jsonKb: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const TIME_BIN = "/usr/bin/time";

/** One synthesis in a fresh process. */
function runOnce(mainJs: string, specFile: string | undefined, work: string): Sample {
  const outdir = fs.mkdtempSync(path.join(work, "out-"));
  const rssFile = path.join(work, "rss.txt");
  fs.rmSync(rssFile, { force: true });
  const env: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1" };
  delete env.MESH_SPEC;
  delete env.SYNTH_HCL_OUTPUT;
  if (specFile) env.MESH_SPEC = specFile;
  const useTime = !process.env.BENCH_NO_TIME && fs.existsSync(TIME_BIN);
  const [cmd, args] = useTime
    ? [TIME_BIN, ["-f", "%e %M %U %S", "-o", rssFile, process.execPath, mainJs]]
    : [process.execPath, ["--require", path.join(work, "report-rss.cjs"), mainJs]];
  if (!useTime) {
    fs.writeFileSync(
      path.join(work, "report-rss.cjs"),
      `process.on("exit", () => { const u = process.resourceUsage(); require("node:fs").writeFileSync(${JSON.stringify(rssFile)}, \`0 \${u.maxRSS} \${u.userCPUTime / 1e6} \${u.systemCPUTime / 1e6}\`); });\n`,
    );
  }
  const start = process.hrtime.bigint();
  const result = spawnSync(cmd, args, { cwd: PROJECT_ROOT, env, encoding: "utf8" });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) {
    throw new Error(`synthesis of ${specFile ?? "the default spec"} failed (exit ${result.status}):\n${result.stderr}${result.stdout}`);
  }
  // GNU time prints "%e %M %U %S": elapsed s, maximum resident set size in KB, user s, system s
  // (on its last line: a failing child adds a line before it).
  const [, kb, user, sys] = fs.readFileSync(rssFile, "utf8").trim().split("\n").pop()!.trim().split(/\s+/);
  const stacks = fs.readdirSync(path.join(outdir, "stacks"));
  if (stacks.length === 0) throw new Error(`synthesis of ${specFile ?? "the default spec"} wrote no stacks`);
  return { seconds, rssMb: Number(kb) / 1024, cpuSeconds: Number(user) + Number(sys) };
}

function outputStats(mainJs: string, specFile: string | undefined, work: string): { resources: number; jsonKb: number } {
  const outdir = fs.mkdtempSync(path.join(work, "stats-"));
  const env: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1" };
  delete env.MESH_SPEC;
  if (specFile) env.MESH_SPEC = specFile;
  const result = spawnSync(process.execPath, [mainJs], { cwd: PROJECT_ROOT, env, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`synthesis failed:\n${result.stderr}`);
  let resources = 0;
  let bytes = 0;
  for (const stack of fs.readdirSync(path.join(outdir, "stacks"))) {
    const file = path.join(outdir, "stacks", stack, "cdk.tf.json");
    const text = fs.readFileSync(file, "utf8");
    bytes += Buffer.byteLength(text);
    const config = JSON.parse(text) as { resource?: Record<string, Record<string, unknown>> };
    for (const byName of Object.values(config.resource ?? {})) resources += Object.keys(byName).length;
  }
  return { resources, jsonKb: bytes / 1024 };
}

function compile(): string {
  const outDir = path.join(PROJECT_ROOT, "review", "bench", "dist");
  fs.rmSync(outDir, { recursive: true, force: true });
  console.error(`compiling (tsc -p tsconfig.json --outDir ${path.relative(PROJECT_ROOT, outDir)}) ...`);
  const tsc = spawnSync("npx", ["tsc", "-p", "tsconfig.json", "--outDir", outDir], { cwd: PROJECT_ROOT, encoding: "utf8" });
  const mainJs = path.join(outDir, "main.js");
  if (tsc.status !== 0) {
    if (!fs.existsSync(mainJs)) throw new Error(`tsc failed and emitted nothing:\n${tsc.stdout}${tsc.stderr}`);
    console.error(`warning: tsc reported errors; benchmarking the JavaScript it emitted anyway:\n${tsc.stdout.trim()}`);
  }
  return mainJs;
}

function main(): number {
  const mainJs = compile();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mesh-bench-"));
  const rows: Row[] = [];
  try {
    const cases: { label: string; services: number; file: string | undefined }[] = [{ label: "built-in default", services: 2, file: undefined }];
    for (const n of SIZES) {
      const file = path.join(work, `bench-${n}.yaml`);
      fs.writeFileSync(file, YAML.stringify(generatedSpec(n)));
      cases.push({ label: `generated`, services: n, file });
    }
    for (const c of cases) {
      // One warm-up run (file system caches), not counted.
      runOnce(mainJs, c.file, work);
      const samples: Sample[] = [];
      for (let i = 0; i < RUNS; i++) samples.push(runOnce(mainJs, c.file, work));
      rows.push({ label: c.label, services: c.services, samples, ...outputStats(mainJs, c.file, work) });
      console.error(`  ${c.label} ${c.services}: ${median(samples.map((s) => s.seconds)).toFixed(2)} s`);
    }
  } finally {
    if (process.env.BENCH_KEEP) console.error(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }

  const header = ["spec", "services", "runs", "median wall s", "min-max wall s", "median CPU s", "median peak RSS MB", "resources", "cdk.tf.json KB"];
  const body = rows.map((r) => {
    const times = r.samples.map((s) => s.seconds);
    return [
      r.label,
      String(r.services),
      String(r.samples.length),
      median(times).toFixed(2),
      `${Math.min(...times).toFixed(2)}-${Math.max(...times).toFixed(2)}`,
      median(r.samples.map((s) => s.cpuSeconds)).toFixed(2),
      median(r.samples.map((s) => s.rssMb)).toFixed(0),
      String(r.resources),
      r.jsonKb.toFixed(0),
    ];
  });
  const load = os.loadavg().map((l) => l.toFixed(2)).join(" ");
  console.log(
    `\nsynthesis benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? "?"}), node ${process.version}, ${RUNS} runs each, load average at the end ${load}\n`,
  );
  console.log(table([header, ...body]));

  const find = (label: string, n: number) => rows.find((r) => r.label === label && r.services === n);
  const med = (r: Row | undefined) => (r ? median(r.samples.map((s) => s.seconds)) : undefined);
  const checks: [string, boolean | undefined][] = [];
  const dflt = med(find("built-in default", 2));
  checks.push([`default spec < ${TARGETS.defaultSpecSeconds} s (${dflt?.toFixed(2)} s)`, dflt === undefined ? undefined : dflt < TARGETS.defaultSpecSeconds]);
  const r500 = find("generated", 500);
  const r50 = find("generated", 50);
  if (r500) {
    const t = med(r500)!;
    const rss = median(r500.samples.map((s) => s.rssMb));
    checks.push([`500 services < ${TARGETS.largestSeconds} s (${t.toFixed(2)} s)`, t < TARGETS.largestSeconds]);
    checks.push([`500 services < ${TARGETS.largestRssMb} MB (${rss.toFixed(0)} MB)`, rss < TARGETS.largestRssMb]);
  }
  if (r500 && r50) {
    const ratio = med(r500)! / med(r50)!;
    console.log(`\ntime(500)/time(50) = ${ratio.toFixed(2)}`);
    checks.push([`time(500)/time(50) <= ${TARGETS.ratio500to50} (${ratio.toFixed(2)})`, ratio <= TARGETS.ratio500to50]);
  }
  console.log("\ntargets:");
  for (const [what, ok] of checks) console.log(`  ${ok === undefined ? "n/a " : ok ? "PASS" : "MISS"}  ${what}`);
  return checks.some(([, ok]) => ok === false) ? 1 : 0;
}

if (require.main === module) {
  try {
    process.exitCode = main();
  } catch (error) {
    console.error(`bench failed: ${(error as Error).message}`);
    process.exitCode = 2;
  }
}
