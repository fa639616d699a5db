import { exactSearch, MetricKind } from 'usearch';
const N = +process.argv[2], D = 128;
const data = new Int8Array(N*D); for (let i=0;i<data.length;i++) data[i]=(Math.random()*200-100)|0;
const q = new Int8Array(D); for (let i=0;i<D;i++) q[i]=(Math.random()*200-100)|0;
for (const th of [1,2]) { const ts=[]; for (let r=0;r<15;r++){const t=performance.now(); const m=exactSearch(data,q,D,16,MetricKind.Cos,th); ts.push(performance.now()-t);} ts.sort((a,b)=>a-b); console.log(N,'threads',th,'p50',ts[7].toFixed(2),'min',ts[0].toFixed(2)); }
const m=exactSearch(data,q,D,3,MetricKind.Cos,1); console.log(m.keys, m.distances);
