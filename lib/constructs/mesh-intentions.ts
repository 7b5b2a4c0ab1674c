import { Construct } from "constructs";
import { ConfigEntry } from "@cdktf/provider-consul/lib/config-entry";
import type { IntentionSource } from "../plan/types";

export interface MeshIntentionsProps {
  /** Sources per destination, as the plan resolved them. */
  readonly intentions: ReadonlyMap<string, readonly IntentionSource[]>;
}

/**
 * Intentions as code: one `service-intentions` config entry per destination service, applied
 * with the Consul provider. The original demo set them by hand in the UI.
 */
export class MeshIntentions extends Construct {
  public readonly entries: ReadonlyMap<string, ConfigEntry>;

  constructor(scope: Construct, id: string, props: MeshIntentionsProps) {
    super(scope, id);
    this.entries = new Map(
      [...props.intentions].map(([destination, sources]) => [
        destination,
        new ConfigEntry(this, destination === "*" ? "default_deny" : destination, {
          kind: "service-intentions",
          name: destination,
          configJson: JSON.stringify({
            Sources: sources.map((s) => ({ Name: s.name, Action: s.action, Description: s.reason })),
          }),
        }),
      ]),
    );
  }
}
