// npm run bench: how long synthesis takes, against what it cannot be faster than.
//
// Each measurement is a fresh process, as `cdktf synth` starts one, with MESH_SPEC and
// CDKTF_OUTDIR pointing into a temp dir and NODE_OPTIONS=--max-old-space-size=4096 (what
// cdktf synth sets), for:
//   app command   cdktf.json's "app" through a shell, exactly as cdktf synth runs it (with no
//                 source changed since the last synth: the bench builds once first)
//   dist/main.js  `node dist/main.js`, the compiled app without its launcher
//   floor         node + cdktf + one provider class synthesizing one VPC (tools/bench-apps/floor.ts)
//   plain CDKTF   the same resources written as a plain CDKTF app (tools/bench-apps/plain-cdktf.ts)
// over the built-in default spec and generated specs of 2 to 500 services (Fargate, each
// calling the next two, a deny intention every tenth service). The variants of one spec run
// interleaved, round after round (the first round is a warm-up and not counted), so load on a
// shared machine hits them alike. Wall time is measured around the process; CPU time and peak
// RSS by /usr/bin/time, or without it by the process itself at exit.
//
// It prints a table and the verdicts against the targets, and exits 0 whatever they are,
// unless --strict. The only file it writes in the project is what the app command writes
// anyway: dist/ (the build, when a source changed).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as esbuild from "esbuild";
import YAML from "yaml";
import type { MeshSpecInput } from "../lib/spec/schema";
import { appCommand, parseCli, PROJECT_ROOT, runTool, table, usageError } from "./support";

const USAGE = `usage: npm run bench -- [--runs <n>] [--sizes <n,n,...>] [--strict] [--keep]

Times synthesis in fresh processes: the app command of cdktf.json (as cdktf synth runs it),
node dist/main.js, the floor (node + cdktf + one provider class) and a plain CDKTF app creating
the same resources, over the default spec and generated meshes. Takes a minute or two.
  --runs <n>      measured runs per variant (default 5), after one warm-up round
  --sizes <list>  generated mesh sizes in services (default 2,50,200,500)
  --strict        exit 1 when a target is missed (default: print the verdicts, exit 0)
  --keep          keep the temp dir with the generated specs and outputs
  -h, --help      this text`;

/** Targets on a 2-core machine (issue 14 and the earlier benchmark issue). */
export const TARGETS = {
  /** The app command on the default spec, no source changed, over the floor. */
  appOverFloor: 3,
  /** The app command at 500 services over the plain CDKTF app creating the same resources. */
  appOverPlain500: 1.3,
  defaultSpecSeconds: 0.5,
  largestSeconds: 3,
  largestRssMb: 600,
  ratio500to50: 12,
} as const;

/**
 * A valid spec of n services: Fargate 256/512 in the private subnet (no ENI budget on the EC2 hosts
 * to respect), a /20 subnet so 500 tasks have addresses, each service calling the next two,
 * and every tenth service denied to the third after it (tools/bench-apps/plain-cdktf.ts builds the same).
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
      // An unprivileged user, as the spec's rules ask (otherwise one warning per service).
      user: "65534",
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

type Variant = "app command" | "dist/main.js" | "floor" | "plain CDKTF";

/** How to start one variant: a shell command line (the app command) or a program with arguments. */
interface Launch {
  readonly variant: Variant;
  readonly command: string | readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

interface Sample {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly rssMb: number;
}

interface Output {
  readonly resources: number;
  readonly jsonKb: number;
  /** "<stack> <type>" -> count, to check that two variants create the same resources. */
  readonly counts: ReadonlyMap<string, number>;
}

interface Row {
  readonly spec: string;
  readonly services: number;
  readonly variant: Variant;
  readonly samples: readonly Sample[];
  readonly output: Output;
}

const TIME_BIN = "/usr/bin/time";

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function readOutput(outdir: string): Output {
  let resources = 0;
  let bytes = 0;
  const counts = new Map<string, number>();
  for (const stack of fs.readdirSync(path.join(outdir, "stacks")).sort()) {
    const text = fs.readFileSync(path.join(outdir, "stacks", stack, "cdk.tf.json"), "utf8");
    bytes += Buffer.byteLength(text);
    const config = JSON.parse(text) as Record<string, Record<string, Record<string, unknown>> | undefined>;
    for (const block of ["resource", "data"] as const) {
      for (const [type, byName] of Object.entries(config[block] ?? {})) {
        counts.set(`${stack} ${block === "data" ? "data." : ""}${type}`, Object.keys(byName).length);
        if (block === "resource") resources += Object.keys(byName).length;
      }
    }
  }
  return { resources, jsonKb: bytes / 1024, counts };
}

/** One run in a fresh process; the output is read back when asked. */
function runOnce(launch: Launch, work: string, keepOutput: boolean): { sample: Sample; output?: Output; stdout: string } {
  const outdir = fs.mkdtempSync(path.join(work, "out-"));
  const usageFile = path.join(work, "usage.txt");
  fs.rmSync(usageFile, { force: true });
  const env: NodeJS.ProcessEnv = { ...process.env, ...launch.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1", NODE_OPTIONS: "--max-old-space-size=4096" };
  for (const key of ["MESH_SPEC", "MESH_DEBUG", "SYNTH_HCL_OUTPUT"]) if (!(key in launch.env)) delete env[key];
  const argv = typeof launch.command === "string" ? ["/bin/sh", "-c", launch.command] : [...launch.command];
  const useTime = fs.existsSync(TIME_BIN);
  if (!useTime) env.NODE_OPTIONS = `${env.NODE_OPTIONS} --require ${path.join(work, "report-usage.cjs")}`;
  const [cmd, ...args] = useTime ? [TIME_BIN, "-f", "%e %M %U %S", "-o", usageFile, ...argv] : argv;
  const start = process.hrtime.bigint();
  const result = spawnSync(cmd!, args, { cwd: PROJECT_ROOT, env, encoding: "utf8" });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`${launch.variant} (${argv.join(" ")}) failed with exit ${result.status}:\n${result.stderr}${result.stdout}`);
  // "%e %M %U %S": elapsed s, maximum resident set size in KB, user s, system s (on the last line).
  const [, kb, user, sys] = fs.readFileSync(usageFile, "utf8").trim().split("\n").pop()!.trim().split(/\s+/);
  const output = keepOutput ? readOutput(outdir) : undefined;
  fs.rmSync(outdir, { recursive: true, force: true });
  return { sample: { seconds, rssMb: Number(kb) / 1024, cpuSeconds: Number(user) + Number(sys) }, output, stdout: result.stdout };
}

/** The floor and the baseline are TypeScript: transpiled (no bundling) into the work dir, run with the project's node_modules. */
function transpileBenchApps(work: string): { floor: string; plain: string } {
  const out = path.join(work, "bench-apps");
  const files = { floor: "floor", plain: "plain-cdktf" } as const;
  for (const file of Object.values(files)) {
    esbuild.buildSync({
      entryPoints: [path.join(PROJECT_ROOT, "tools", "bench-apps", `${file}.ts`)],
      outfile: path.join(out, `${file}.js`),
      platform: "node",
      format: "cjs",
      target: "node20",
      logLevel: "error",
    });
  }
  return { floor: path.join(out, "floor.js"), plain: path.join(out, "plain-cdktf.js") };
}

function differences(a: Output, b: Output): string[] {
  const keys = [...new Set([...a.counts.keys(), ...b.counts.keys()])].sort();
  return keys.filter((k) => a.counts.get(k) !== b.counts.get(k)).map((k) => `${k}: ${a.counts.get(k) ?? 0} vs ${b.counts.get(k) ?? 0}`);
}

export function main(args: readonly string[]): number {
  const { values } = parseCli(USAGE, { runs: { type: "string" }, sizes: { type: "string" }, strict: { type: "boolean" }, keep: { type: "boolean" } }, false, args);
  const runs = Number(values.runs ?? 5);
  if (!Number.isInteger(runs) || runs < 1) usageError(`--runs must be a whole number >= 1, got "${values.runs}"`, USAGE);
  const sizes = (values.sizes ?? "2,50,200,500").split(",").map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) usageError(`--sizes must be whole numbers >= 1 separated by commas, got "${values.sizes}"`, USAGE);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mesh-bench-"));
  fs.writeFileSync(
    path.join(work, "report-usage.cjs"),
    `process.on("exit", () => { const u = process.resourceUsage(); require("node:fs").writeFileSync(${JSON.stringify(path.join(work, "usage.txt"))}, \`0 \${u.maxRSS} \${u.userCPUTime / 1e6} \${u.systemCPUTime / 1e6}\`); });\n`,
  );
  const app = appCommand();
  const rows: Row[] = [];
  let build = "no source changed: nothing compiled";
  try {
    // Bring dist/ up to date the way a synth would, so every measured app command finds it fresh.
    const first = runOnce({ variant: "app command", command: app, env: {} }, work, false);
    if (/Compiling/.test(first.stdout)) build = `sources had changed: the first app command compiled, ${first.sample.seconds.toFixed(1)} s in all`;
    console.error(`app command: ${app} (${build})`);
    const apps = transpileBenchApps(work);
    const nodeModules = { NODE_PATH: path.join(PROJECT_ROOT, "node_modules") };

    const cases: { spec: string; services: number; variants: Launch[] }[] = [
      {
        spec: "built-in default",
        services: 2,
        variants: [
          { variant: "app command", command: app, env: {} },
          { variant: "dist/main.js", command: [process.execPath, path.join(PROJECT_ROOT, "dist", "main.js")], env: {} },
          { variant: "floor", command: [process.execPath, apps.floor], env: nodeModules },
        ],
      },
    ];
    for (const n of sizes) {
      const file = path.join(work, `bench-${n}.yaml`);
      fs.writeFileSync(file, YAML.stringify(generatedSpec(n)));
      cases.push({
        spec: "generated",
        services: n,
        variants: [
          { variant: "app command", command: app, env: { MESH_SPEC: file } },
          ...(n === Math.max(...sizes)
            ? [{ variant: "dist/main.js" as const, command: [process.execPath, path.join(PROJECT_ROOT, "dist", "main.js")], env: { MESH_SPEC: file } }]
            : []),
          { variant: "plain CDKTF", command: [process.execPath, apps.plain], env: { ...nodeModules, BENCH_SERVICES: String(n) } },
        ],
      });
    }

    for (const c of cases) {
      const samples = new Map<Variant, Sample[]>(c.variants.map((v) => [v.variant, []]));
      const outputs = new Map<Variant, Output>();
      for (let round = 0; round <= runs; round++) {
        for (const launch of c.variants) {
          const { sample, output } = runOnce(launch, work, round === 0);
          if (round === 0) outputs.set(launch.variant, output!);
          else samples.get(launch.variant)!.push(sample);
        }
      }
      for (const launch of c.variants) {
        rows.push({ spec: c.spec, services: c.services, variant: launch.variant, samples: samples.get(launch.variant)!, output: outputs.get(launch.variant)! });
      }
      console.error(`  ${c.spec} ${c.services}: ${c.variants.map((v) => `${v.variant} ${median(samples.get(v.variant)!.map((s) => s.seconds)).toFixed(2)} s`).join(", ")}`);
    }
  } finally {
    if (values.keep) console.error(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }

  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
  console.log(
    `\nsynthesis benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? "?"}), node ${process.version}, ${runs} runs each after a warm-up, load average at the end ${load}`,
  );
  console.log(`app command: ${app} (${build})\n`);
  const header = ["spec", "services", "variant", "median wall s", "min-max wall s", "median CPU s", "median peak RSS MB", "resources", "cdk.tf.json KB"];
  const body = rows.map((r) => {
    const times = r.samples.map((s) => s.seconds);
    return [
      r.spec,
      String(r.services),
      r.variant,
      median(times).toFixed(2),
      `${Math.min(...times).toFixed(2)}-${Math.max(...times).toFixed(2)}`,
      median(r.samples.map((s) => s.cpuSeconds)).toFixed(2),
      median(r.samples.map((s) => s.rssMb)).toFixed(0),
      String(r.output.resources),
      r.output.jsonKb.toFixed(0),
    ];
  });
  console.log(table([header, ...body]));

  const find = (services: number, variant: Variant, spec = "generated") => rows.find((r) => r.spec === spec && r.services === services && r.variant === variant);
  const wall = (r: Row | undefined) => (r ? median(r.samples.map((s) => s.seconds)) : undefined);
  // CPU time moves less than wall time with other load on the machine: shown beside each ratio.
  const cpu = (r: Row | undefined) => (r ? median(r.samples.map((s) => s.cpuSeconds)) : undefined);
  const checks: [string, boolean | undefined][] = [];
  const appDefault = wall(find(2, "app command", "built-in default"));
  const floor = wall(find(2, "floor", "built-in default"));
  if (appDefault !== undefined && floor !== undefined) {
    const ratio = appDefault / floor;
    const cpuRatio = cpu(find(2, "app command", "built-in default"))! / cpu(find(2, "floor", "built-in default"))!;
    checks.push([
      `app command, default spec <= ${TARGETS.appOverFloor}x the floor (${appDefault.toFixed(2)} s / ${floor.toFixed(2)} s = ${ratio.toFixed(2)}x; CPU ${cpuRatio.toFixed(2)}x)`,
      ratio <= TARGETS.appOverFloor,
    ]);
    checks.push([`app command, default spec < ${TARGETS.defaultSpecSeconds} s (${appDefault.toFixed(2)} s)`, appDefault < TARGETS.defaultSpecSeconds]);
  }
  const largest = Math.max(...sizes);
  for (const n of sizes) {
    const ours = find(n, "app command");
    const plain = find(n, "plain CDKTF");
    if (!ours || !plain) continue;
    const diff = differences(ours.output, plain.output);
    if (diff.length > 0) console.log(`\nnote: at ${n} services the plain CDKTF app's resources differ from the app's:\n  ${diff.join("\n  ")}`);
    if (n === 500) {
      const ratio = wall(ours)! / wall(plain)!;
      const cpuRatio = cpu(ours)! / cpu(plain)!;
      checks.push([
        `app command, 500 services <= ${TARGETS.appOverPlain500}x plain CDKTF with the same resources (${wall(ours)!.toFixed(2)} s / ${wall(plain)!.toFixed(2)} s = ${ratio.toFixed(2)}x; CPU ${cpuRatio.toFixed(2)}x${diff.length ? "; resources differ, see above" : ""})`,
        ratio <= TARGETS.appOverPlain500,
      ]);
    }
  }
  const r500 = find(500, "app command");
  if (r500) {
    const rss = median(r500.samples.map((s) => s.rssMb));
    checks.push([`app command, 500 services < ${TARGETS.largestSeconds} s (${wall(r500)!.toFixed(2)} s)`, wall(r500)! < TARGETS.largestSeconds]);
    checks.push([`app command, 500 services < ${TARGETS.largestRssMb} MB (${rss.toFixed(0)} MB)`, rss < TARGETS.largestRssMb]);
  }
  const r50 = find(50, "app command");
  if (r500 && r50) {
    const ratio = wall(r500)! / wall(r50)!;
    checks.push([`time(500)/time(50) <= ${TARGETS.ratio500to50} (${ratio.toFixed(2)})`, ratio <= TARGETS.ratio500to50]);
  }
  if (largest !== 500) console.log(`\n(500 services not in --sizes: the 500-service targets are not checked)`);
  console.log("\ntargets (2 cores; a loaded or slower machine can miss them):");
  for (const [what, ok] of checks) console.log(`  ${ok === undefined ? "n/a " : ok ? "PASS" : "MISS"}  ${what}`);
  const missed = checks.filter(([, ok]) => ok === false).length;
  if (missed > 0 && !values.strict) console.log(`\n${missed} target(s) missed; exit 0 (pass --strict to fail on a miss)`);
  return missed > 0 && values.strict ? 1 : 0;
}

void runTool(require.main === module, "bench", main, 2);
