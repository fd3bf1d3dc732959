#!/usr/bin/python3
"""One-off importer: turns the facts in Apache Kafka's message JSON files into Tandem's own schema format.

Not part of the build. The .kws files it wrote are committed and are the source of truth from then on; edit them by
hand when something changes. Kept only so that the import can be repeated and audited.

Usage: import_kafka_json.py NEW_DIR OLD_DIR OUT_DIR
  NEW_DIR: common/message of kafka-clients 4.x (authoritative for every version it still serves)
  OLD_DIR: common/message of kafka-clients 3.9 (authoritative for the versions 4.x removed, and for the inter-broker keys)
"""
import glob, json, os, re, sys

def load(directory):
    messages = {}
    for path in glob.glob(os.path.join(directory, '*.json')):
        text = re.sub(r'^\s*//.*$', '', open(path).read(), flags=re.M)
        message = json.loads(text)
        messages[message['name']] = message
    return messages

def parse_versions(text, top):
    """A version-range string ('3+', '0-12', '5', 'none') as a set, '+' closed at `top`."""
    text = str(text).strip()
    if text == 'none' or text == '':
        return set()
    if text.endswith('+'):
        return set(range(int(text[:-1]), top + 1))
    if '-' in text:
        low, high = text.split('-')
        return set(range(int(low), int(high) + 1))
    return {int(text)}

def format_versions(versions, top):
    if not versions:
        return 'none'
    ordered = sorted(versions)
    runs, start, previous = [], ordered[0], ordered[0]
    for v in ordered[1:]:
        if v != previous + 1:
            runs.append((start, previous))
            start = v
        previous = v
    runs.append((start, previous))
    parts = []
    for low, high in runs:
        if high == top:
            parts.append(f'{low}+')
        elif low == high:
            parts.append(f'{low}')
        else:
            parts.append(f'{low}-{high}')
    return ','.join(parts)

TOP = 99  # '+' ranges are open: evaluate them up to a bound no API reaches

def stable_versions(message):
    versions = parse_versions(message['validVersions'], TOP)
    if message.get('latestVersionUnstable') and versions:
        versions.discard(max(versions))
    return versions

def merged_fields(new_fields, old_fields, new_versions, old_only, where):
    """Union of two field lists: new facts for the versions 4.x serves, old facts for the versions only 3.9 served."""
    new_fields = new_fields or []
    old_fields = old_fields or []
    old_by_name = {f['name']: f for f in old_fields}
    new_by_name = {f['name']: f for f in new_fields}
    # Field order: the new list, with old-only fields slotted in after their predecessor in the old list.
    order = [f['name'] for f in new_fields]
    for index, field in enumerate(old_fields):
        if field['name'] in new_by_name:
            continue
        predecessor = None
        for earlier in reversed(old_fields[:index]):
            if earlier['name'] in order:
                predecessor = earlier['name']
                break
        order.insert(order.index(predecessor) + 1 if predecessor else 0, field['name'])
    result = []
    for name in order:
        new, old = new_by_name.get(name), old_by_name.get(name)
        def pick(key, subset_new, subset_old):
            out = set()
            if new is not None and key in new:
                out |= parse_versions(new[key], TOP) & subset_new
            if old is not None and key in old:
                out |= parse_versions(old[key], TOP) & subset_old
            return out
        versions = pick('versions', new_versions, old_only)
        if not versions:
            continue
        merged = {'name': name, 'versions': versions,
                  'nullable': pick('nullableVersions', new_versions, old_only),
                  'tagged': pick('taggedVersions', new_versions, old_only),
                  'flexible': None}
        primary = new if (new is not None and parse_versions(new['versions'], TOP) & new_versions) else old
        merged['type'] = primary['type'].strip()
        for source in (new, old):
            if source is not None and source['type'].strip() != merged['type']:
                new_element = merged['type'].replace('[]', '')
                old_element = source['type'].strip().replace('[]', '')
                both_structs = new_element[:1].isupper() and old_element[:1].isupper()
                if not both_structs:
                    sys.exit(f'{where}.{name}: type {source["type"]} vs {merged["type"]}')
        for key in ('tag', 'default', 'flexibleVersions', 'zeroCopy'):
            value = primary.get(key, (old or {}).get(key) if primary is new else None)
            if value is not None:
                merged[key] = value
        if (new or {}).get('fields') or (old or {}).get('fields'):
            merged['fields'] = merged_fields((new or {}).get('fields'), (old or {}).get('fields'), new_versions, old_only,
                                             where + '.' + name)
        result.append(merged)
    return result

def default_token(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    text = str(value).strip()
    return '""' if text == '' else text

def write_fields(out, fields, indent, top):
    width = 34
    for field in fields:
        head = '  ' * indent + field['name']
        parts = [head.ljust(width), field['type'].ljust(24), format_versions(field['versions'], top)]
        if field['nullable'] & field['versions']:
            parts.append('nullable ' + format_versions(field['nullable'] & field['versions'], top))
        if 'default' in field:
            parts.append('default ' + default_token(field['default']))
        if field['tagged']:
            parts.append(f"tag {field['tag']} tagged {format_versions(field['tagged'], top)}")
        if field.get('flexibleVersions') == 'none':
            parts.append('flexible none')
        if field.get('zeroCopy'):
            parts.append('zerocopy')
        out.append(' '.join(parts).rstrip())
        if 'fields' in field:
            write_fields(out, field['fields'], indent + 1, top)

def write_side(out, keyword, new, old, extra, old_request):
    new_all = parse_versions(new['validVersions'], TOP) if new else set()
    # Stability is declared on the request only; it applies to the response as well.
    old_stable = stable_versions(old_request) if old_request else set()
    old_only = old_stable - new_all
    versions = new_all | old_only
    top = max(versions)
    flexible_new = (new or {}).get('flexibleVersions')
    flexible_old = (old or {}).get('flexibleVersions')
    if new and old and new_all and old_only and flexible_new != flexible_old:
        sys.exit(f'{keyword}: flexible versions differ: {flexible_new} vs {flexible_old}')
    flexible = parse_versions(flexible_new if new_all else flexible_old, TOP) & versions
    line = f'{keyword} versions {format_versions(versions, top + 1)} flexible {format_versions(flexible, top)}'
    if new and new.get('latestVersionUnstable'):
        line += f' unstable {max(new_all)}'
    out.append(line + extra)
    fields = merged_fields((new or {}).get('fields'), (old or {}).get('fields'), new_all, old_only, keyword)
    write_fields(out, fields, 1, top)
    structs_new = {s['name']: s for s in (new or {}).get('commonStructs', [])}
    structs_old = {s['name']: s for s in (old or {}).get('commonStructs', [])}
    for name in list(structs_new) + [n for n in structs_old if n not in structs_new]:
        out.append(f'  struct {name}')
        struct_fields = merged_fields(structs_new.get(name, {}).get('fields'), structs_old.get(name, {}).get('fields'),
                                      new_all, old_only, keyword + '.' + name)
        write_fields(out, struct_fields, 2, top)
    return versions

def main():
    new_dir, old_dir, out_dir = sys.argv[1:4]
    new, old = load(new_dir), load(old_dir)
    keys = {}
    for messages in (new, old):
        for name, message in messages.items():
            if message['type'] == 'request':
                keys.setdefault(message['apiKey'], name[:-len('Request')])
    for key in sorted(keys):
        api = keys[key]
        # A key's 4.x name wins (74 was renamed ListClientMetricsResources -> ListConfigResources).
        for name, message in new.items():
            if message['type'] == 'request' and message['apiKey'] == key and message['validVersions'] != 'none':
                api = name[:-len('Request')]
        new_request, old_request = new.get(api + 'Request'), old.get(api + 'Request')
        new_response, old_response = new.get(api + 'Response'), old.get(api + 'Response')
        if new_request and new_request['validVersions'] == 'none':
            new_request, new_response = None, None
        out = [f'# {api}: API key {key}. Imported once from the 4.x and 3.9 message definitions; maintained here.',
               f'api {key} {api}']
        request_extra = ' header0 0' if api == 'ControlledShutdown' else ''
        response_extra = ' header 0' if api == 'ApiVersions' else ''
        write_side(out, 'request', new_request, old_request, request_extra, old_request)
        write_side(out, 'response', new_response, old_response, response_extra, old_request)
        with open(os.path.join(out_dir, f'{key:03d}-{api}.kws'), 'w') as handle:
            handle.write('\n'.join(out) + '\n')
    out = ['# Request and response headers. Imported once from the 4.x definitions; maintained here.']
    for header in ('RequestHeader', 'ResponseHeader'):
        message = new[header]
        versions = parse_versions(message['validVersions'], TOP)
        if header == 'RequestHeader':
            versions.add(0)  # header v0 (no client id) is still sent by ControlledShutdown v0
        top = max(versions)
        out.append(f'header {header} versions {format_versions(versions, top + 1)} flexible '
                   f'{format_versions(parse_versions(message["flexibleVersions"], TOP) & versions, top)}')
        write_fields(out, merged_fields(message['fields'], None, versions, set(), header), 1, top)
    with open(os.path.join(out_dir, 'headers.kws'), 'w') as handle:
        handle.write('\n'.join(out) + '\n')

main()
