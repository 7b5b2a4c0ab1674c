// What every EC2 instance of the mesh gets, whether an instance or a launch template makes it.

/**
 * IMDSv2 only. Hop limit 1 keeps containers in bridge mode away from the host's credentials; awsvpc
 * tasks are blocked from IMDS by ECS_AWSVPC_BLOCK_IMDS in the ECS hosts' user data.
 */
const METADATA_OPTIONS = { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 };

/** An instance's metadata options, encrypted gp3 root volume and detailed monitoring. */
export const INSTANCE_SETTINGS = { metadataOptions: METADATA_OPTIONS, rootBlockDevice: { encrypted: true, volumeType: "gp3" }, monitoring: true };

/** The same for a launch template, whose new versions become the default. */
export const LAUNCH_TEMPLATE_SETTINGS = {
  metadataOptions: METADATA_OPTIONS,
  monitoring: { enabled: true },
  blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true", volumeType: "gp3", deleteOnTermination: "true" } }],
  updateDefaultVersion: true,
};
