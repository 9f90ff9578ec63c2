// The seed's module variables, one state however the package is loaded.
export const settings: { tempdir: string | null; template: string | null } = {
  tempdir: null,
  template: null,
};
