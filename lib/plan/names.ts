// Names of AWS resources that more than one stage needs: the construct that creates the resource
// and a script that recognizes it at run time.

/** Joins the cluster's name and the service's into the ECS service's name. */
export const ECS_SERVICE_NAME_SEPARATOR = "-";

/** The ECS service of a mesh service: its tasks carry `group: "service:<this>"`. */
export function ecsServiceName(clusterName: string, service: string): string {
  return `${clusterName}${ECS_SERVICE_NAME_SEPARATOR}${service}`;
}
