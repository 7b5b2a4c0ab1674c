// Tests synthesize as the app does: without CDKTF's per-token stack traces (lib/token-stack-traces.ts).
import { skipTokenStackTraces } from "../../lib/token-stack-traces";

skipTokenStackTraces();
