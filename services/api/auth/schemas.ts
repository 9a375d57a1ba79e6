/** Request and response schemas of the auth routes (TypeBox: typed handlers and the OpenAPI document). */
import { type Static, Type } from '@sinclair/typebox';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './passwords.js';

/** RFC 5321 caps a forward path at 256 octets, so an address at 254 characters. */
export const Email = Type.String({
  format: 'email',
  minLength: 3,
  maxLength: 254,
  description: 'Email address; compared case-insensitively and stored lower-cased.',
  examples: ['coach@example.com'],
});

export const NewPassword = Type.String({
  minLength: PASSWORD_MIN_LENGTH,
  maxLength: PASSWORD_MAX_LENGTH,
  description: `Password: ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters, any characters.`,
});

export const RegisterBody = Type.Object({ email: Email, password: NewPassword }, { additionalProperties: false });
export type RegisterBody = Static<typeof RegisterBody>;

export const LoginBody = Type.Object(
  {
    email: Email,
    // No minimum here: a short password is just a wrong one, and the policy may change over time.
    password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
  },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

export const Role = Type.Union([Type.Literal('user'), Type.Literal('admin')], {
  description: 'admin sees every user’s uploads and analyses.',
});

export const PublicUser = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String({ format: 'email' }),
  role: Role,
  createdAt: Type.String({ format: 'date-time' }),
});
export type PublicUser = Static<typeof PublicUser>;

export const UserResponse = Type.Object({ user: PublicUser });

export const TokenResponse = Type.Object({
  accessToken: Type.String({ description: 'JWT; send it as `Authorization: Bearer <accessToken>`.' }),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ minimum: 1, description: 'Lifetime of the token in seconds.' }),
});
