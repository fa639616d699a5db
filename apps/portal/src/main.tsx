import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';

function App() {
  const [status, setStatus] = useState('checking the server…');
  useEffect(() => {
    fetch('/healthz')
      .then((r) => (r.ok ? 'the server is up' : `the server answered ${r.status}`))
      .catch(() => 'the server cannot be reached')
      .then(setStatus);
  }, []);
  return (
    <main>
      <h1>Facepay — my account</h1>
      <p>Enrol your face, see your payments, delete your face.</p>
      <p role="status">{status}</p>
    </main>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
