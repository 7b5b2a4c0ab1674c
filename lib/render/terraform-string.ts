// In Terraform JSON every string is a template: a literal "${" or "%{" (bash variables,
// Go templates) must be written "$${" / "%%{" or `terraform validate` fails with
// "Invalid reference". CDKTF token placeholders are the only "${" that must survive,
// because CDKTF resolves them into real Terraform references at synth time.
const CDKTF_TOKEN = /(\$\{TfToken\[TOKEN\.\d+\]\})/;

/** Escapes template sequences in rendered text while keeping CDKTF tokens as references. */
export function escapeForTerraform(text: string): string {
  return text
    .split(CDKTF_TOKEN)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{")))
    .join("");
}
