import { useState, type ComponentProps } from "react";
import { TextField } from "./TextField";

type Props = Omit<ComponentProps<typeof TextField>, "type" | "trailing">;

/** A password field with a button that shows what was typed (and hides it again). */
export function PasswordField(props: Props) {
  const [shown, setShown] = useState(false);
  return (
    <TextField
      {...props}
      type={shown ? "text" : "password"}
      autoCapitalize="off"
      spellCheck={false}
      trailing={
        <button
          type="button"
          className="reveal"
          aria-controls={props.id}
          aria-label={shown ? "Hide password" : "Show password"}
          onClick={() => setShown((s) => !s)}
        >
          {shown ? "Hide" : "Show"}
        </button>
      }
    />
  );
}
