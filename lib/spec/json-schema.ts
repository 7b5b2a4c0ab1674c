import { z } from "zod";
import { meshSpecSchema } from "./schema";

/** The JSON Schema of spec files (the input side: fields with defaults are optional). */
export function meshSpecJsonSchema(): string {
  const schema = z.toJSONSchema(meshSpecSchema, { io: "input", target: "draft-2020-12" });
  return `${JSON.stringify({ ...schema, title: "Consul ECS mesh spec" }, null, 2)}\n`;
}
