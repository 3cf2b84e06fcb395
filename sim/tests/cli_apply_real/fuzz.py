import json, random, sys
seed0 = int(sys.argv[1]); n = int(sys.argv[2]); EXT = len(sys.argv) > 3
P = ['/a', '/b', '/a/x', '/a/y', '/b/z', '/a/x/q', '/zookeeper', '/', '/a/', '/s-', '/a/s-']
def path(r): return r.choice(P)
def data(r): return r.choice(['', 'v', None, {'b64': 'AP8='}, 'longer data'])
def acl(r): return r.choice(['open', 'open', 'open', 'read_only', [['rcd', 'world', 'anyone']], [['rwcda', 'digest', 'u:x'], ['r', 'world', 'anyone']], 'creator_all'])
def op(r, sessions):
    s = r.choice(sessions)
    if EXT and r.random() < 0.15:
        k = r.choice(['create_container', 'create_ttl', 'drop', 'reconnect'])
        o = {'session': s, 'op': k}
        if k == 'create_container': o.update(path=path(r), data=data(r))
        if k == 'create_ttl': o.update(path=path(r), data=data(r), ttl=r.choice([1, 60000, 0]), flags={'sequential': r.random() < 0.3})
        return o
    k = r.choice(['create']*6 + ['delete']*3 + ['set']*3 + ['get', 'exists', 'children', 'children_nostat', 'get_acl', 'set_acl', 'multi', 'multi', 'add_watch', 'remove_watches', 'check_watches', 'get_ephemerals', 'all_children_number', 'sync', 'add_auth'])
    o = {'session': s, 'op': k}
    if k == 'create':
        o.update(path=path(r), data=data(r), flags={'ephemeral': r.random() < 0.3, 'sequential': r.random() < 0.3})
        if r.random() < 0.3: o['acl'] = acl(r)
    elif k == 'delete': o.update(path=path(r), version=r.choice([-1, -1, 0, 1]))
    elif k == 'set': o.update(path=path(r), data=data(r), version=r.choice([-1, -1, 0, 1, 2]))
    elif k in ('get', 'exists', 'children', 'children_nostat'): o.update(path=path(r), watch=r.random() < 0.6)
    elif k == 'get_acl': o.update(path=path(r))
    elif k == 'set_acl': o.update(path=path(r), acl=acl(r), version=r.choice([-1, 0, 1]))
    elif k == 'multi':
        ops = []
        for _ in range(r.randint(0, 4)):
            sk = r.choice(['create', 'create2', 'delete', 'set', 'check'])
            so = {'op': sk, 'path': path(r)}
            if sk in ('create', 'create2'): so.update(data=data(r), flags={'ephemeral': r.random() < 0.2, 'sequential': r.random() < 0.3})
            else: so['version'] = r.choice([-1, 0, 1])
            if sk == 'set': so['data'] = data(r)
            ops.append(so)
        o['ops'] = ops
    elif k == 'add_watch': o.update(path=path(r), mode=r.choice(['persistent', 'persistent_recursive']))
    elif k in ('remove_watches', 'check_watches'): o.update(path=path(r), type=r.choice(['children', 'data', 'any']))
    elif k in ('get_ephemerals', 'all_children_number', 'sync'): o.update(path=path(r))
    elif k == 'add_auth': o.update(scheme='digest', auth=r.choice(['u:p', 'v:q']))
    return o
for i in range(n):
    r = random.Random(seed0 + i)
    sessions = ['A', 'B', 'C'][:r.randint(1, 3)]
    ops = [op(r, sessions) for _ in range(r.randint(10, 35))]
    if r.random() < 0.4:
        ops.insert(r.randrange(len(ops)), {'session': sessions[-1], 'op': 'close'})
    d = {'name': f'fuzz-{seed0 + i}', 'sessions': sessions, 'ops': ops}
    if EXT: d['server'] = {'jvm_props': {'zookeeper.extendedTypesEnabled': 'true'}}
    print(json.dumps(d))
