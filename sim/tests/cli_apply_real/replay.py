#!/usr/bin/env python3
"""Replays op scripts (op-scripts README) against a real ZooKeeper over its wire protocol and
prints outcomes in the README format. Restarts a fresh standalone server per script."""
import base64, hashlib, json, os, select, shutil, socket, struct, subprocess, sys, time

PORT = 21810
CP = None
SERVER = None


def stop_server():
    """Stops the server this script started (by its process, never by name)."""
    global SERVER
    if SERVER is not None:
        SERVER.terminate()
        SERVER.wait(timeout=30)
        SERVER = None

def start_server(extended):
    global CP
    stop_server()
    shutil.rmtree('/tmp/zkreal/data', ignore_errors=True)
    os.makedirs('/tmp/zkreal/data')
    jars = [f'/usr/share/java/{j}' for j in os.listdir('/usr/share/java') if j.endswith('.jar') and any(k in j for k in ['zookeeper','slf4j-api','log4j-1.2-1','netty','commons-cli','commons-io','metrics','snappy','jackson','jline','audience'])]
    CP = ':'.join(['/etc/zookeeper/conf'] + jars)
    props = ['-Dzookeeper.admin.enableServer=false', '-Dzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=']
    if extended:
        props.append('-Dzookeeper.extendedTypesEnabled=true')
    global SERVER
    SERVER = subprocess.Popen(['java'] + props + ['-cp', CP, 'org.apache.zookeeper.server.ZooKeeperServerMain', '/tmp/zkreal/zoo.cfg'],
                     stdout=open('/tmp/zkreal/server.log', 'w'), stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            if 'Zxid' in four('srvr'):
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit('server did not start')

def four(cmd):
    s = socket.create_connection(('127.0.0.1', PORT)); s.send(cmd.encode())
    out = b''
    while True:
        d = s.recv(4096)
        if not d: break
        out += d
    return out.decode()

def server_zxid():
    for l in four('srvr').splitlines():
        if l.startswith('Zxid:'): return int(l.split()[1], 16)

class W:
    def __init__(s): s.b = b''
    def int(s, v): s.b += struct.pack('>i', v); return s
    def long(s, v): s.b += struct.pack('>q', v); return s
    def bool(s, v): s.b += b'\x01' if v else b'\x00'; return s
    def buf(s, v):
        if v is None: return s.int(-1)
        s.int(len(v)); s.b += v; return s
    def str(s, v): return s.buf(v.encode())
    def acl(s, acl):
        s.int(len(acl))
        for p, sch, i in acl: s.int(p).str(sch).str(i)
        return s

class R:
    def __init__(s, b): s.b = b; s.o = 0
    def take(s, n): v = s.b[s.o:s.o+n]; s.o += n; return v
    def int(s): return struct.unpack('>i', s.take(4))[0]
    def long(s): return struct.unpack('>q', s.take(8))[0]
    def bool(s): return s.take(1) != b'\x00'
    def buf(s):
        n = s.int(); return None if n < 0 else s.take(n)
    def str(s): return s.buf().decode()
    def stat(s):
        return dict(czxid=s.long(), mzxid=s.long(), ctime=s.long(), mtime=s.long(), version=s.int(),
                    cversion=s.int(), aversion=s.int(), ephemeralOwner=s.long(), dataLength=s.int(),
                    numChildren=s.int(), pzxid=s.long())
    def strs(s): return [s.str() for _ in range(s.int())]
    def acls(s): return [[s.int(), s.str(), s.str()] for _ in range(s.int())]

ERR = {0:'OK',-1:'SYSTEMERROR',-2:'RUNTIMEINCONSISTENCY',-4:'CONNECTIONLOSS',-5:'MARSHALLINGERROR',-6:'UNIMPLEMENTED',-8:'BADARGUMENTS',
       -12:'UNKNOWNSESSION',-101:'NONODE',-102:'NOAUTH',-103:'BADVERSION',-108:'NOCHILDRENFOREPHEMERALS',-110:'NODEEXISTS',-111:'NOTEMPTY',
       -112:'SESSIONEXPIRED',-114:'INVALIDACL',-115:'AUTHFAILED',-121:'NOWATCHER'}
EV = {1:'NodeCreated',2:'NodeDeleted',3:'NodeDataChanged',4:'NodeChildrenChanged',5:'DataWatchRemoved',6:'ChildWatchRemoved',7:'PersistentWatchRemoved',-1:'None'}
ST = {3:'SyncConnected',0:'Disconnected',-112:'Expired'}

def data_in(v):
    if v is None: return None
    if isinstance(v, str): return v.encode()
    if 'utf8' in v: return v['utf8'].encode()
    if 'b64' in v: return base64.b64decode(v['b64'])
    return (v['fill'].encode() * (v['len'] // max(1, len(v['fill'])) + 1))[:v['len']]

def data_out(b):
    if b is None: return None
    if len(b) > 256: return {'len': len(b), 'sha256': hashlib.sha256(b).hexdigest()}
    try:
        s = b.decode()
        if all(not (ord(c) < 32 or 0x7f <= ord(c) <= 0x9f) or c in '\n\t' for c in s): return {'utf8': s}
    except UnicodeDecodeError: pass
    return {'b64': base64.b64encode(b).decode()}

PERM = {'r':1,'w':2,'c':4,'d':8,'a':16}
def acl_in(v):
    if v is None or v == 'open': return [[31,'world','anyone']]
    if v == 'read_only': return [[1,'world','anyone']]
    if v == 'creator_all': return [[31,'auth','']]
    if v == 'empty': return []
    return [[p if isinstance(p, int) else sum(PERM[c] for c in p), s, i] for p, s, i in v]

def flags_of(op, kind):
    if 'raw_flags' in op: return op['raw_flags']
    f = op.get('flags', {}); e, q = f.get('ephemeral', False), f.get('sequential', False)
    if kind == 'create_container': return 4
    if kind == 'create_ttl': return 6 if q else 5
    return (1 if e else 0) + (2 if q else 0)

class Sess:
    def __init__(s, name, timeout):
        s.name = name; s.xid = 0; s.last = 0; s.requested = timeout
        s.w = {'data': set(), 'exist': set(), 'child': set(), 'persistent': set(), 'recursive': set()}
        s.connect(0, b'\0' * 16)
        s.id = s.sid
    def connect(s, sid, passwd):
        s.sock = socket.create_connection(('127.0.0.1', PORT))
        w = W().int(0).long(s.last).int(s.requested).long(sid).buf(passwd).bool(False)
        s.send(w.b); r = R(s.recv())
        r.int(); to = r.int(); s.sid = r.long(); p = r.buf()
        if to <= 0:
            s.sock.close(); s.sock = None; return False
        s.timeout = to; s.passwd = p
        return True
    def on_event(s, t, p):
        if t in (1, 3): s.w['data'].discard(p); s.w['exist'].discard(p)
        if t == 2: s.w['data'].discard(p); s.w['exist'].discard(p); s.w['child'].discard(p)
        if t == 4: s.w['child'].discard(p)
    def send(s, b): s.sock.sendall(struct.pack('>i', len(b)) + b)
    def recv(s, timeout=5.0):
        s.sock.settimeout(timeout)
        hdr = b''
        while len(hdr) < 4:
            d = s.sock.recv(4 - len(hdr))
            if not d: raise ConnectionError('closed')
            hdr += d
        n = struct.unpack('>i', hdr)[0]; b = b''
        while len(b) < n:
            d = s.sock.recv(n - len(b))
            if not d: raise ConnectionError('closed')
            b += d
        return b

def rec_create(w, o, kind):
    w.str(o['path']).buf(data_in(o.get('data', ''))).acl(acl_in(o.get('acl'))).int(flags_of(o, kind))

def run_script(sc):
    ext = sc.get('server', {}).get('jvm_props', {}).get('zookeeper.extendedTypesEnabled') == 'true'
    start_server(ext)
    sessions = {}; names = {}
    for n in sc.get('sessions', ['A']):
        s = Sess(n, sc.get('session_timeout_ms', 10000)); sessions[n] = s; names[s.id] = n
    base = server_zxid()
    rel = lambda z: z - base
    def stat(st):
        o = st['ephemeralOwner']
        own = 0 if o == 0 else ('session:' + names[o] if o in names else '%016x' % (o & (2**64-1)))
        return dict(czxid=rel(st['czxid']), mzxid=rel(st['mzxid']), pzxid=rel(st['pzxid']), version=st['version'],
                    cversion=st['cversion'], aversion=st['aversion'], dataLength=st['dataLength'],
                    numChildren=st['numChildren'], ephemeralOwner=own)
    results = []
    for i, o in enumerate(sc['ops']):
        name = o.get('session', 'A'); kind = o['op']
        res = {'i': i, 'session': name, 'op': kind}; events = []
        s = sessions.get(name)
        if kind == 'connect':
            s = Sess(name, o.get('timeout_ms', 10000)); sessions[name] = s; names[s.id] = name
            res.update(err='OK', code=0, negotiated_timeout_ms=s.timeout, events=[]); results.append(res); continue
        if kind in ('reconnect', 'reconnect_badpw'):
            if s.sock is not None: s.sock.close(); s.sock = None
            ok = s.connect(s.id, s.passwd if kind == 'reconnect' else b'\x01' * 16)
            if not ok:
                res.update(err='SESSION_EXPIRED_ON_CONNECT', events=[]); results.append(res); continue
            w = W().int(-8).int(105).long(s.last)
            for k in ('data', 'exist', 'child', 'persistent', 'recursive'):
                lst = sorted(s.w[k]); w.int(len(lst))
                for p in lst: w.str(p)
            s.send(w.b)
            while True:
                r = R(s.recv()); rx, z, err = r.int(), r.long(), r.int()
                if rx == -1:
                    t, stt, p = r.int(), r.int(), r.str(); s.on_event(t, p)
                    events.append({'session': name, 'type': EV[t], 'path': p, 'state': ST.get(stt, stt), 'when': 'before_reply'})
                    continue
                if rx == -2:
                    continue  # a late ping reply
                break
            res.update(err='OK', code=0, negotiated_timeout_ms=s.timeout, events=events); results.append(res); continue
        if kind == 'expire':
            if s.sock is not None: s.sock.close(); s.sock = None
            end = time.time() + (s.timeout + 4000) / 1000.0 + 1.0
            while time.time() < end:
                for n2, s2 in sessions.items():
                    if s2.sock is None: continue
                    s2.send(W().int(-2).int(11).b)
                t0 = time.time()
                while time.time() - t0 < 0.5:
                    socks = [x.sock for x in sessions.values() if x.sock is not None]
                    if not socks: time.sleep(0.5); break
                    rd, _, _ = select.select(socks, [], [], 0.1)
                    for sk in rd:
                        s2 = [x for x in sessions.values() if x.sock is sk][0]
                        try: r = R(s2.recv(1))
                        except Exception: s2.sock = None; continue
                        rx, z, err = r.int(), r.long(), r.int()
                        if rx == -1:
                            t, stt, p = r.int(), r.int(), r.str(); s2.on_event(t, p)
                            events.append({'session': s2.name, 'type': EV[t], 'path': p, 'state': ST.get(stt, stt), 'when': 'during_wait'})
            res.update(err='OK', code=0, events=events); results.append(res); continue
        if s is None or s.sock is None:
            res.update(err='CLIENT_NOT_CONNECTED', events=[]); results.append(res); continue
        if kind == 'drop':
            s.sock.close(); s.sock = None; res.update(err='OK', code=0, events=[]); results.append(res); continue
        s.xid += 1; xid = s.xid; w = W().int(xid)
        typ = None
        if kind in ('create', 'create_container', 'create_ttl'):
            typ = {'create': 1, 'create_container': 19, 'create_ttl': 21}[kind]; w.int(typ); rec_create(w, o, kind)
            if kind == 'create_ttl': w.long(o['ttl'])
        elif kind == 'delete': typ = 2; w.int(2).str(o['path']).int(o.get('version', -1))
        elif kind == 'exists': typ = 3; w.int(3).str(o['path']).bool(o.get('watch', False))
        elif kind == 'get': typ = 4; w.int(4).str(o['path']).bool(o.get('watch', False))
        elif kind == 'set': typ = 5; w.int(5).str(o['path']).buf(data_in(o.get('data', ''))).int(o.get('version', -1))
        elif kind == 'get_acl': typ = 6; w.int(6).str(o['path'])
        elif kind == 'set_acl': typ = 7; w.int(7).str(o['path']).acl(acl_in(o.get('acl'))).int(o.get('version', -1))
        elif kind == 'children_nostat': typ = 8; w.int(8).str(o['path']).bool(o.get('watch', False))
        elif kind == 'children': typ = 12; w.int(12).str(o['path']).bool(o.get('watch', False))
        elif kind == 'sync': typ = 9; w.int(9).str(o['path'])
        elif kind in ('multi', 'multi_read'):
            typ = 14 if kind == 'multi' else 22; w.int(typ)
            for so in o['ops']:
                k = so['op']
                if k in ('create', 'create2'):
                    w.int(1 if k == 'create' else 15).bool(False).int(-1); rec_create(w, so, 'create')
                elif k == 'delete': w.int(2).bool(False).int(-1).str(so['path']).int(so.get('version', -1))
                elif k == 'set': w.int(5).bool(False).int(-1).str(so['path']).buf(data_in(so.get('data', ''))).int(so.get('version', -1))
                elif k == 'check': w.int(13).bool(False).int(-1).str(so['path']).int(so.get('version', -1))
                elif k == 'get': w.int(4).bool(False).int(-1).str(so['path']).bool(False)
                elif k == 'children': w.int(8).bool(False).int(-1).str(so['path']).bool(False)
            w.int(-1).bool(True).int(-1)
        elif kind == 'add_watch': typ = 106; w.int(106).str(o['path']).int(0 if o['mode'] == 'persistent' else 1)
        elif kind in ('remove_watches', 'check_watches'):
            typ = 18 if kind == 'remove_watches' else 17
            w.int(typ).str(o['path']).int({'children': 1, 'data': 2, 'any': 3}[o['type']])
        elif kind == 'get_ephemerals': typ = 103; w.int(103).str(o['path'])
        elif kind == 'all_children_number': typ = 104; w.int(104).str(o['path'])
        elif kind == 'add_auth':
            typ = 100; xid = -4; w = W().int(-4).int(100).int(0).str(o['scheme']).buf(o['auth'].encode())
        elif kind == 'close': typ = -11; w.int(-11)
        else:
            res.update(err='UNSUPPORTED_BY_REPLAY', events=[]); results.append(res); continue
        try:
            s.send(w.b)
            while True:
                r = R(s.recv())
                rx, z, err = r.int(), r.long(), r.int()
                if rx == -1:
                    t, stt, p = r.int(), r.int(), r.str(); s.on_event(t, p)
                    events.append({'session': name, 'type': EV[t], 'path': p, 'state': ST.get(stt, stt), 'when': 'before_reply'})
                    continue
                if rx == -2:
                    continue  # a late ping reply
                break
        except (ConnectionError, socket.timeout, OSError):
            s.sock = None
            res.update(err='CONNECTION_LOST', events=events); results.append(res); continue
        res.update(err=ERR.get(err, str(err)), code=err)
        if xid != -4: res['zxid'] = rel(z); s.last = max(s.last, z)
        if o.get('watch') and kind == 'exists' and err in (0, -101):
            s.w['data' if err == 0 else 'exist'].add(o['path'])
        elif o.get('watch') and kind == 'get' and err == 0: s.w['data'].add(o['path'])
        elif o.get('watch') and kind in ('children', 'children_nostat') and err == 0: s.w['child'].add(o['path'])
        elif kind == 'add_watch' and err == 0: s.w['persistent' if o['mode'] == 'persistent' else 'recursive'].add(o['path'])
        elif kind == 'remove_watches' and err == 0:
            for k in s.w: s.w[k].discard(o['path'])
        if kind == 'add_auth' and err != 0:
            s.sock.close(); s.sock = None
        if err == 0:
            if typ == 1: res['path'] = r.str()
            elif typ in (19, 21): res['path'] = r.str(); res['stat'] = stat(r.stat())
            elif typ in (3, 5, 7): res['stat'] = stat(r.stat())
            elif typ == 4: res['data'] = data_out(r.buf()); res['stat'] = stat(r.stat())
            elif typ == 6: res['acl'] = r.acls(); res['stat'] = stat(r.stat())
            elif typ == 8: res['children'] = sorted(r.strs())
            elif typ == 12: res['children'] = sorted(r.strs()); res['stat'] = stat(r.stat())
            elif typ == 9: res['path'] = r.str()
            elif typ == 103: res['ephemerals'] = sorted(r.strs())
            elif typ == 104: res['count'] = r.int()
            elif typ in (14, 22):
                out = []
                while True:
                    t, done, e = r.int(), r.bool(), r.int()
                    if done: break
                    if t == 1: out.append({'type': 'create', 'path': r.str()})
                    elif t == 15: out.append({'type': 'create2', 'path': r.str(), 'stat': stat(r.stat())})
                    elif t == 2: out.append({'type': 'delete'})
                    elif t == 5: out.append({'type': 'setData', 'stat': stat(r.stat())})
                    elif t == 13: out.append({'type': 'check'})
                    elif t == 4: out.append({'type': 'getData', 'data': data_out(r.buf()), 'stat': stat(r.stat())})
                    elif t == 8: out.append({'type': 'getChildren', 'children': sorted(r.strs())})
                    elif t == -1: ec = r.int(); out.append({'type': 'error', 'err': ERR.get(ec, str(ec)), 'code': ec})
                res['results'] = out
        if kind == 'close':
            s.sock.close(); s.sock = None
        for s2 in sessions.values():
            if s2.sock is not None:
                try: s2.send(W().int(-2).int(11).b)
                except OSError: s2.sock = None
        time.sleep(0.15)
        for n2, s2 in sessions.items():
            if s2.sock is None: continue
            while True:
                rd, _, _ = select.select([s2.sock], [], [], 0.05)
                if not rd: break
                try: r = R(s2.recv(1))
                except Exception: s2.sock = None; break
                rx, z, err = r.int(), r.long(), r.int()
                if rx == -1:
                    t, stt, p = r.int(), r.int(), r.str(); s2.on_event(t, p)
                    events.append({'session': n2, 'type': EV[t], 'path': p, 'state': ST.get(stt, stt), 'when': 'after_reply'})
        res['events'] = events
        results.append(res)
    # final tree by walking
    walker = Sess('_walk', 10000); names.setdefault(walker.id, '_walk')
    walker.send(W().int(-4).int(100).int(0).str('digest').buf(b'super:test').b); R(walker.recv())
    tree = {}
    def walk(p):
        walker.xid += 1
        walker.send(W().int(walker.xid).int(12).str(p).bool(False).b)
        r = R(walker.recv()); r.int(); r.long(); err = r.int()
        if err != 0: return
        ch = sorted(r.strs()); st = r.stat()
        walker.xid += 1
        walker.send(W().int(walker.xid).int(4).str(p).bool(False).b)
        r2 = R(walker.recv()); r2.int(); r2.long(); e2 = r2.int()
        d = r2.buf() if e2 == 0 else None
        tree[p] = {'data': data_out(d), 'stat': stat(st), 'children': ch}
        for c in ch: walk((p.rstrip('/') + '/' + c))
    walk('/')
    return {'name': sc['name'], 'base_zxid_abs': base, 'sessions': {n: {'negotiated_timeout_ms': s.timeout} for n, s in sessions.items()},
            'results': results, 'final_tree': tree}

try:
    for line in open(sys.argv[1]):
        if line.strip():
            print(json.dumps(run_script(json.loads(line)), sort_keys=True), flush=True)
finally:
    stop_server()
