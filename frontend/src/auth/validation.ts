/**
 * The sign-up and login forms' checks and wording — pure, so every message is unit-tested.
 *
 * The limits mirror the API's (lambdas/contract/validation.py): every field is checked at once
 * before a request is sent, and an error the server still reports is worded for the same person.
 */

import { ApiError } from "../api";
import { codePoints } from "../chat/types";

export type Mode = "login" | "signup";
export type Field = "email" | "username" | "password";
export type FormValues = Record<Field, string>;
export type FieldErrors = Partial<Record<Field, string>>;

/** The fields in the order they appear, so focus goes to the first one in error. */
export const FIELD_ORDER: readonly Field[] = ["email", "username", "password"];

export const MAX_EMAIL_CHARS = 254;
export const MIN_PASSWORD_CHARS = 8;
export const MAX_PASSWORD_BYTES = 72;
export const MAX_DISPLAY_NAME_CHARS = 32;

const EMAIL = /^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$/;
/** What Python's ``str.isprintable`` refuses: control, format, unassigned, separators but " ". */
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;

function emailError(email: string): string | undefined {
  const value = email.trim();
  if (value === "") return "Enter your email address.";
  if (value.length > MAX_EMAIL_CHARS) return `An email address can be at most ${MAX_EMAIL_CHARS} characters.`;
  if (!EMAIL.test(value)) return "Enter an email address like name@example.com.";
  return undefined;
}

/** The display name's length, checked as it is typed: too long is shown at once, never cut. */
export function displayNameLengthError(name: string): string | undefined {
  const length = codePoints(name);
  if (length <= MAX_DISPLAY_NAME_CHARS) return undefined;
  return `A display name can be at most ${MAX_DISPLAY_NAME_CHARS} characters; this one has ${length}.`;
}

function displayNameError(name: string): string | undefined {
  if (name.trim() === "") return "Enter a display name.";
  if (NOT_PRINTABLE.test(name)) return "A display name can only have visible characters and spaces.";
  return displayNameLengthError(name);
}

function newPasswordError(password: string): string | undefined {
  const length = codePoints(password);
  if (length === 0) return "Choose a password.";
  if (length < MIN_PASSWORD_CHARS) {
    return `Use at least ${MIN_PASSWORD_CHARS} characters; this one has ${length}.`;
  }
  if (new TextEncoder().encode(password).length > MAX_PASSWORD_BYTES) {
    return `That password is too long: use at most ${MAX_PASSWORD_BYTES} characters (fewer with accents or emoji).`;
  }
  return undefined;
}

/** Every field's problem at once (an empty object when the form can be sent). */
export function validate(mode: Mode, values: FormValues): FieldErrors {
  const errors: FieldErrors = { email: emailError(values.email) };
  if (mode === "signup") {
    errors.username = displayNameError(values.username);
    errors.password = newPasswordError(values.password);
  } else if (values.password === "") {
    errors.password = "Enter your password.";
  }
  return Object.fromEntries(Object.entries(errors).filter(([, e]) => e !== undefined));
}

export function firstInError(errors: FieldErrors): Field | undefined {
  return FIELD_ORDER.find((field) => errors[field] !== undefined);
}

export interface Failure {
  /** The field the failure belongs to; none for the whole form. */
  field?: Field;
  message: string;
  /** The email is registered already: offer to log in instead. */
  emailTaken?: boolean;
  /** Where focus goes when the failure belongs to no field. */
  focus?: Field;
}

/** A server message in the form's own words: "display name", "email", a capital, a full stop. */
function reworded(message: string): string {
  const text = message.replace(/\busername\b/gi, "display name").replace(/\be-mail\b/gi, "email");
  if (text === "") return text;
  return text[0].toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
}

/** What to tell the person after a failed signup or login request. */
export function describeFailure(error: unknown, mode: Mode): Failure {
  if (!(error instanceof ApiError)) return { message: "Something went wrong. Try again." };
  switch (error.code) {
    case "EMAIL_TAKEN":
      return { field: "email", message: "That email is already registered.", emailTaken: true };
    case "INVALID_CREDENTIALS":
      return { message: "Wrong email or password.", focus: "password" };
  }
  const field = FIELD_ORDER.find((f) => f === error.field && (mode === "signup" || f !== "username"));
  return { field, message: reworded(error.message) };
}
