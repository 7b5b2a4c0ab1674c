// CDKTF captures a full stack trace for every token it creates (about a sixth of the CPU time at 500
// services, by CPU profile of tools/bench.ts's spec) and shows one only when a token fails to
// resolve. The app and the tests skip them; error messages stay intact.

/** Stops CDKTF from capturing a stack trace per token. */
export function skipTokenStackTraces(): void {
  (require("cdktf/lib/tokens/private/stack-trace") as { captureStackTrace: () => string[] }).captureStackTrace = () => [];
}
