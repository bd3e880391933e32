/** How a model version is named to people and in analytics: `name/version`, everywhere. */
export function modelVersionLabel(version: { name: string; version: string }): string {
  return `${version.name}/${version.version}`;
}
