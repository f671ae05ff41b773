/**
 * The dashboard's client: Preact components (text is escaped by construction: nothing from the store
 * is ever inserted as HTML), routed by path, fed by the JSON API and kept current by its event stream.
 */
import { render } from 'preact';
import './style.css';
import { StudiesPage } from './studies.js';
import { StudyPage } from './study.js';
import { TrialPage } from './trial.js';
import { Link, useRoute } from './router.js';

function App() {
  const route = useRoute();
  const page = route.page === 'studies' ? <StudiesPage />
    : route.page === 'study' ? <StudyPage key={route.name} name={route.name} />
    : route.page === 'trial' ? <TrialPage key={`${route.name}/${route.key}`} name={route.name} trialKey={route.key} />
    : <main><h1>Not found</h1><p>No page at {route.path}. <Link href="/">All studies</Link></p></main>;
  return (
    <>
      <div class="topbar"><Link href="/" class="brand">sgdlab</Link><span class="sub">dashboard</span></div>
      {page}
    </>
  );
}

// The token the printed URL carried is kept in a cookie by the server: take it out of the address bar
// (and so out of the history, bookmarks and screenshots).
const url = new URL(location.href);
if (url.searchParams.has('token')) {
  url.searchParams.delete('token');
  history.replaceState(null, '', url.pathname + (url.search === '?' ? '' : url.search) + url.hash);
}

const root = document.getElementById('app')!;
root.textContent = '';
render(<App />, root);
