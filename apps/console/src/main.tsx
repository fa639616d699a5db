import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';

function App() {
  const [status, setStatus] = useState('checking the server…');
  useEffect(() => {
    fetch('/health')
      .then((r) => (r.ok ? 'the server is up' : `the server answered ${r.status}`))
      .catch(() => 'the server cannot be reached')
      .then(setStatus);
  }, []);
  return (
    <main>
      <h1>Facepay merchant console</h1>
      <p>Payments, members and campaigns for your shop.</p>
      <p role="status">{status}</p>
    </main>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
