export function Logo({ size = 32 }: { size?: number }) {
  return (
    <svg className="logo" width={size} height={size} viewBox="0 0 64 64" aria-hidden="true" focusable="false">
      <rect width="64" height="64" rx="16" fill="currentColor" />
      <path
        d="M18 20h28a6 6 0 0 1 6 6v12a6 6 0 0 1-6 6H30l-10 8v-8h-2a6 6 0 0 1-6-6V26a6 6 0 0 1 6-6z"
        fill="#fff"
      />
    </svg>
  );
}
