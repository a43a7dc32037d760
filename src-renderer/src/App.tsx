import { useEffect } from 'react';
import { useAppStore } from './app-store';

/** Placeholder home screen until the meeting UI lands; it proves the build and the host detection. */
export function App() {
  const host = useAppStore((s) => s.host);
  const appVersion = useAppStore((s) => s.appVersion);
  const loadAppVersion = useAppStore((s) => s.loadAppVersion);
  useEffect(() => {
    void loadAppVersion();
  }, [loadAppVersion]);

  return (
    <main className="home">
      <h1>Chorus</h1>
      <p>Self-hosted meetings for your local network, compatible with the Amazon Chime SDK.</p>
      <p className="host" data-testid="host-kind">
        {host === 'desktop' ? `Desktop app${appVersion ? ` ${appVersion}` : ''}` : 'Web client'}
      </p>
    </main>
  );
}
