import { useId, useRef, useState, type FormEvent, type InputHTMLAttributes } from "react";
import { ApiError, login, signup } from "../api";
import { newSession, type Session } from "../session";
import { Logo } from "./Logo";

type Mode = "login" | "signup";
type Field = "email" | "password" | "username";

interface Props {
  restUrl: string;
  notice: string | null;
  onLoggedIn: (session: Session) => void;
}

function sentence(text: string): string {
  return text.length === 0 ? text : text[0].toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
}

export function AuthView({ restUrl, notice, onLoggedIn }: Props) {
  const [mode, setMode] = useState<Mode>("login");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [username, setUsername] = useState("");
  const [busy, setBusy] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<Field, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const refs = {
    email: useRef<HTMLInputElement>(null),
    password: useRef<HTMLInputElement>(null),
    username: useRef<HTMLInputElement>(null),
  };
  const id = useId();
  const signingUp = mode === "signup";

  function switchMode(next: Mode) {
    setMode(next);
    setFieldErrors({});
    setFormError(null);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setFieldErrors({});
    setFormError(null);
    try {
      if (signingUp) await signup(restUrl, email, password, username);
      const result = await login(restUrl, email, password);
      onLoggedIn(newSession(result.token, result.expiresIn, result.user));
    } catch (error) {
      const e =
        error instanceof ApiError ? error : new ApiError("UNKNOWN", "Something went wrong. Try again.");
      let field = e.field as Field | undefined;
      let message = sentence(e.message);
      if (e.code === "EMAIL_TAKEN") {
        field = "email";
        message = "That e-mail is already registered. Log in instead?";
      } else if (e.code === "INVALID_CREDENTIALS") {
        message = "Wrong e-mail or password.";
      }
      if (field !== undefined && field in refs && (signingUp || field !== "username")) {
        setFieldErrors({ [field]: message });
        refs[field].current?.focus();
      } else {
        setFormError(message);
      }
      setBusy(false);
    }
  }

  function input(field: Field, label: string, props: InputHTMLAttributes<HTMLInputElement>, hint?: string) {
    const error = fieldErrors[field];
    const inputId = `${id}-${field}`;
    const described = [hint ? `${inputId}-hint` : null, error ? `${inputId}-error` : null]
      .filter(Boolean)
      .join(" ");
    return (
      <div className={`field${error ? " invalid" : ""}`}>
        <label htmlFor={inputId}>{label}</label>
        <input
          id={inputId}
          ref={refs[field]}
          name={field}
          required
          aria-invalid={error ? true : undefined}
          aria-describedby={described || undefined}
          {...props}
        />
        {hint && (
          <p className="hint" id={`${inputId}-hint`}>
            {hint}
          </p>
        )}
        {error && (
          <p className="field-error" id={`${inputId}-error`}>
            {error}
          </p>
        )}
      </div>
    );
  }

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
          {input("email", "E-mail", {
            type: "email",
            autoComplete: "email",
            inputMode: "email",
            value: email,
            onChange: (e) => setEmail(e.target.value),
          })}
          {signingUp &&
            input(
              "username",
              "Display name",
              {
                type: "text",
                autoComplete: "nickname",
                maxLength: 32,
                value: username,
                onChange: (e) => setUsername(e.target.value),
              },
              "Up to 32 characters; others see it beside your messages.",
            )}
          {input(
            "password",
            "Password",
            {
              type: "password",
              autoComplete: signingUp ? "new-password" : "current-password",
              value: password,
              onChange: (e) => setPassword(e.target.value),
            },
            signingUp ? "At least 8 characters." : undefined,
          )}
          <button type="submit" className="button primary wide" disabled={busy} aria-busy={busy}>
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
