import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { login, signup } from "../api";
import {
  describeFailure,
  displayNameLengthError,
  firstInError,
  MAX_DISPLAY_NAME_CHARS,
  validate,
  type Field,
  type FieldErrors,
  type FormValues,
  type Mode,
} from "../auth/validation";
import { codePoints } from "../chat/types";
import { newSession, type Session } from "../session";
import { Logo } from "./Logo";
import { PasswordField } from "./PasswordField";
import { TextField } from "./TextField";

interface Props {
  restUrl: string;
  notice: string | null;
  onLoggedIn: (session: Session) => void;
}

const EMPTY: FormValues = { email: "", username: "", password: "" };

/** Where focus goes next; a new object each time, so asking for the same field again works. */
interface FocusRequest {
  field: Field;
  select?: boolean;
}

export function AuthView({ restUrl, notice, onLoggedIn }: Props) {
  const [mode, setMode] = useState<Mode>("login");
  const [values, setValues] = useState<FormValues>(EMPTY);
  const [busy, setBusy] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [emailTaken, setEmailTaken] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [focus, setFocus] = useState<FocusRequest>({ field: "email" });
  const refs = {
    email: useRef<HTMLInputElement>(null),
    password: useRef<HTMLInputElement>(null),
    username: useRef<HTMLInputElement>(null),
  };
  const id = useId();
  const signingUp = mode === "signup";

  useEffect(() => {
    document.title = signingUp ? "Sign up · chatstack" : "Log in · chatstack";
  }, [signingUp]);

  // On load, after logging out, after switching forms and after a failure: focus the right field.
  useEffect(() => {
    const input = refs[focus.field].current;
    input?.focus();
    if (focus.select) input?.select();
  }, [focus]); // the refs never change

  function switchMode(next: Mode, then: FocusRequest = { field: "email" }) {
    setMode(next);
    setFieldErrors({});
    setEmailTaken(false);
    setFormError(null);
    setFocus(then);
  }

  function change(field: Field, value: string) {
    setValues((v) => ({ ...v, [field]: value }));
    if (fieldErrors[field] !== undefined) {
      setFieldErrors(({ [field]: _, ...rest }) => rest);
      if (field === "email") setEmailTaken(false);
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setFormError(null);
    setEmailTaken(false);
    const errors = validate(mode, values);
    setFieldErrors(errors);
    const first = firstInError(errors);
    if (first !== undefined) {
      setFocus({ field: first });
      return;
    }
    setBusy(true);
    try {
      if (signingUp) await signup(restUrl, values.email, values.password, values.username);
      const result = await login(restUrl, values.email, values.password);
      onLoggedIn(newSession(result.token, result.expiresIn, result.user));
    } catch (error) {
      const failure = describeFailure(error, mode);
      if (failure.field !== undefined) {
        setFieldErrors({ [failure.field]: failure.message });
        setEmailTaken(failure.emailTaken === true);
        setFocus({ field: failure.field });
      } else {
        setFormError(failure.message);
        if (failure.focus !== undefined) setFocus({ field: failure.focus, select: true });
      }
      setBusy(false);
    }
  }

  const fieldId = (field: Field) => `${id}-${field}`;
  const nameLength = codePoints(values.username);
  const emailError = fieldErrors.email && (
    <>
      {fieldErrors.email}
      {emailTaken && (
        <>
          {" "}
          <button type="button" className="link" onClick={() => switchMode("login", { field: "password", select: true })}>
            Log in instead
          </button>
        </>
      )}
    </>
  );

  return (
    <div className="auth-page">
      <main className="auth-card" aria-labelledby={`${id}-title`}>
        <div className="auth-brand">
          <Logo />
          <span>chatstack</span>
        </div>
        <h1 id={`${id}-title`}>{signingUp ? "Create your account" : "Welcome back"}</h1>
        <p className="auth-lead">
          {signingUp ? "Sign up to start chatting in real time." : "Log in to pick up where you left off."}
        </p>
        {notice && !formError && (
          <p className="banner info" role="status">
            {notice}
          </p>
        )}
        {formError && (
          <p className="banner error" role="alert">
            {formError}
          </p>
        )}
        <form onSubmit={submit} noValidate>
          <TextField
            id={fieldId("email")}
            label="Email"
            inputRef={refs.email}
            name="email"
            type="email"
            autoComplete="email"
            inputMode="email"
            value={values.email}
            onChange={(e) => change("email", e.target.value)}
            error={emailError}
          />
          {signingUp && (
            <TextField
              id={fieldId("username")}
              label="Display name"
              inputRef={refs.username}
              name="username"
              type="text"
              autoComplete="nickname"
              dir="auto"
              value={values.username}
              onChange={(e) => change("username", e.target.value)}
              hint={`Others see it beside your messages. Up to ${MAX_DISPLAY_NAME_CHARS} characters.`}
              error={fieldErrors.username ?? displayNameLengthError(values.username)}
              aside={
                <span className={`count${nameLength > MAX_DISPLAY_NAME_CHARS ? " over" : ""}`} aria-hidden="true">
                  {nameLength}/{MAX_DISPLAY_NAME_CHARS}
                </span>
              }
            />
          )}
          <PasswordField
            id={fieldId("password")}
            label="Password"
            inputRef={refs.password}
            name="password"
            autoComplete={signingUp ? "new-password" : "current-password"}
            value={values.password}
            onChange={(e) => change("password", e.target.value)}
            hint={signingUp ? "At least 8 characters." : undefined}
            error={fieldErrors.password}
          />
          <button type="submit" className="button primary wide" aria-disabled={busy || undefined}>
            {busy ? (signingUp ? "Creating account…" : "Logging in…") : signingUp ? "Sign up" : "Log in"}
          </button>
        </form>
        <p className="auth-switch">
          {signingUp ? "Already have an account?" : "New to chatstack?"}{" "}
          <button type="button" className="link" onClick={() => switchMode(signingUp ? "login" : "signup")}>
            {signingUp ? "Log in" : "Create an account"}
          </button>
        </p>
      </main>
    </div>
  );
}
