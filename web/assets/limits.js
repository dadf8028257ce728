// The services' limits on what a person types, in one place: the fields' `maxlength` and hints
// come from here. standalone/tests/web_client.rs checks each against the services' own
// constants, so the two cannot drift apart.

export const limits = {
  nameChars: 100,
  passwordChars: { min: 8, max: 128 },
  titleChars: 200,
  descriptionChars: 2000,
};
