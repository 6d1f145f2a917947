import { describe, expect, it } from "vitest";
import { ApiError } from "../../api";
import { describeFailure, displayNameLengthError, firstInError, validate, type FormValues } from "../validation";

const good: FormValues = { email: "ada@example.com", username: "Ada", password: "correct horse" };

describe("validate", () => {
  it("accepts a good sign-up and a good login", () => {
    expect(validate("signup", good)).toEqual({});
    expect(validate("login", { ...good, username: "" })).toEqual({});
  });

  it("reports every field of an empty sign-up at once, first in form order", () => {
    const errors = validate("signup", { email: "", username: "", password: "" });
    expect(errors).toEqual({
      email: "Enter your email address.",
      username: "Enter a display name.",
      password: "Choose a password.",
    });
    expect(firstInError(errors)).toBe("email");
    expect(firstInError({ password: "x", username: "y" })).toBe("username");
  });

  it("words each sign-up problem for the field as labelled, saying 'email' and 'display name'", () => {
    const errors = validate("signup", { email: "not-an-email", username: "   ", password: "short" });
    expect(errors.email).toBe("Enter an email address like name@example.com.");
    expect(errors.username).toBe("Enter a display name.");
    expect(errors.password).toBe("Use at least 8 characters; this one has 5.");
    for (const message of Object.values(errors)) {
      expect(message).not.toMatch(/e-mail|username/i);
    }
  });

  it("refuses what the API refuses: long e-mails, long passwords in bytes, unprintable names", () => {
    expect(validate("signup", { ...good, email: `${"a".repeat(250)}@example.com` }).email).toMatch(/at most 254/);
    expect(validate("signup", { ...good, password: "é".repeat(37) }).password).toMatch(/too long/); // 74 bytes
    expect(validate("signup", { ...good, password: "é".repeat(36) })).toEqual({}); // 72 bytes
    expect(validate("signup", { ...good, username: "Ada\tLovelace" }).username).toMatch(/visible characters/);
    expect(validate("signup", { ...good, username: "Ada\u200bL" }).username).toMatch(/visible characters/);
    expect(validate("signup", { ...good, username: "Ada Lovelace 🎉 עדה" })).toEqual({});
  });

  it("says how long a too-long display name is instead of cutting it, counting characters as the API does", () => {
    expect(displayNameLengthError("a".repeat(32))).toBeUndefined();
    expect(displayNameLengthError("🎉".repeat(32))).toBeUndefined(); // 64 UTF-16 units, 32 characters
    expect(displayNameLengthError("a".repeat(40))).toBe(
      "A display name can be at most 32 characters; this one has 40.",
    );
    expect(validate("signup", { ...good, username: "a".repeat(33) }).username).toMatch(/this one has 33/);
  });

  it("on login asks only for what is missing, and checks the e-mail's shape", () => {
    expect(validate("login", { email: "", username: "", password: "" })).toEqual({
      email: "Enter your email address.",
      password: "Enter your password.",
    });
    expect(validate("login", { ...good, email: "ada" }).email).toMatch(/like name@example.com/);
    expect(validate("login", { ...good, password: "x" })).toEqual({});
  });
});

describe("describeFailure", () => {
  it("offers to log in when the e-mail is taken, and focuses the password after wrong credentials", () => {
    expect(describeFailure(new ApiError("EMAIL_TAKEN", "this e-mail is already registered"), "signup")).toEqual({
      field: "email",
      message: "That email is already registered.",
      emailTaken: true,
    });
    expect(describeFailure(new ApiError("INVALID_CREDENTIALS", "invalid e-mail or password"), "login")).toEqual({
      message: "Wrong email or password.",
      focus: "password",
    });
  });

  it("puts a server's field error under its field, in the form's words", () => {
    const failure = describeFailure(
      new ApiError("VALIDATION_ERROR", "username must not be blank", "username"),
      "signup",
    );
    expect(failure).toEqual({ field: "username", message: "Display name must not be blank." });
    expect(describeFailure(new ApiError("VALIDATION_ERROR", "email is not a valid e-mail address", "email"), "login"))
      .toEqual({ field: "email", message: "Email is not a valid email address." });
  });

  it("keeps errors of fields the form does not show, and unknown errors, for the whole form", () => {
    expect(describeFailure(new ApiError("VALIDATION_ERROR", "username is required", "username"), "login").field)
      .toBeUndefined();
    expect(describeFailure(new Error("boom"), "login")).toEqual({ message: "Something went wrong. Try again." });
  });
});
