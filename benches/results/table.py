import json,sys
rows={}
names={"W1":"W1 (one at a time)","W2":"W2 (batches of 64)","W1c":"W1c (W1, compacting every 1,024)","W2c":"W2c (W2, compacting every 1,024)","W4":"W4 (encode+decode, 64-entry append)"}
def k(x):
    return f"{x/1e6:.2f}M" if x>=1e6 else f"{x/1e3:.0f}k"
def nn(n):
    return {10000:"10k",100000:"100k",1000000:"1M"}.get(n, f"{n/1000:.0f}k" if n<1e6 else f"{n/1e6:.0f}M")
out=[]
for f in sys.argv[1:]:
    for line in open(f):
        d=json.loads(line)
        if d.get("summary") and "workload" in d:
            n=d["n"]; 
            n=10000 if 9000<n<11000 else (100000 if 90000<n<110000 else (1000000 if n>900000 else n))
            out.append((list(names).index(d["workload"]),n,d))
out.sort(key=lambda t:(t[0],t[1]))
print("| workload | n | steadfast | raft-rs | ratio: median (min–max) | allocs/entry (steadfast / raft-rs) |")
print("|---|---|---|---|---|---|")
last=None
for i,n,d in out:
    w=d["workload"]
    label=names[w] if w!=last else w
    last=w
    print(f"| {label} | {nn(n)} | {k(d['steadfast_entries_per_cpu_s'])} | {k(d['raft_rs_entries_per_cpu_s'])} | **{d['ratio']:.2f}×** ({d['ratio_min']:.2f}–{d['ratio_max']:.2f}) | {d['steadfast_allocs_per_entry']:.1f} / {d['raft_rs_allocs_per_entry']:.1f} |")
