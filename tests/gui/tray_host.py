#!/usr/bin/python3
"""A desktop panel's side of the tray, for the tray e2e suite (tests/gui/tray.rs): a
StatusNotifierWatcher with a registered host, which tray apps (libayatana-appindicator) register
their icon with, and a dbusmenu client that reads and clicks their menu as a panel does.

Needs Debian's python3-gi + gir1.2-glib-2.0 (run with /usr/bin/python3, not a pyenv python).
All commands use the bus in $DBUS_SESSION_BUS_ADDRESS.

  tray_host.py watcher            serve org.kde.StatusNotifierWatcher (+ a registered host) until killed;
                                  prints one line per event: "item <busname><path>", "layout <rev> <parent>"
  tray_host.py items              print the registered items ("<busname><objpath>")
  tray_host.py dump [--ids]       print the menu tree of the (first) registered item
  tray_host.py wait TEXT [SECS]   wait until some label in the menu contains TEXT (default 20 s)
  tray_host.py click PATH         click the item at PATH: labels joined by '>', each matched as a
                                  prefix, e.g. 'Quit' or 'Containers>web>Stop'
"""
import os
import sys
import time

from gi.repository import Gio, GLib

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
WATCHER_XML = """
<node>
  <interface name="org.kde.StatusNotifierWatcher">
    <method name="RegisterStatusNotifierItem"><arg name="service" type="s" direction="in"/></method>
    <method name="RegisterStatusNotifierHost"><arg name="service" type="s" direction="in"/></method>
    <property name="RegisteredStatusNotifierItems" type="as" access="read"/>
    <property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
    <property name="ProtocolVersion" type="i" access="read"/>
    <signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
    <signal name="StatusNotifierItemUnregistered"><arg type="s"/></signal>
    <signal name="StatusNotifierHostRegistered"/>
    <signal name="StatusNotifierHostUnregistered"/>
  </interface>
</node>"""


def bus():
    return Gio.bus_get_sync(Gio.BusType.SESSION, None)


def out(*a):
    print(*a, flush=True)


# ---------------------------------------------------------------- watcher


def watcher():
    conn = bus()
    items = []  # "<unique name><object path>"
    loop = GLib.MainLoop()
    iface = Gio.DBusNodeInfo.new_for_xml(WATCHER_XML).interfaces[0]

    def emit(signal, params):
        conn.emit_signal(None, WATCHER_PATH, WATCHER, signal, params)

    def on_call(c, sender, path, ifname, method, params, inv):
        if method == "RegisterStatusNotifierItem":
            svc = params.unpack()[0]
            # libappindicator passes its object path; others pass a bus name.
            item = sender + svc if svc.startswith("/") else svc + "/StatusNotifierItem"
            if item not in items:
                items.append(item)
                out("item", item)
                emit("StatusNotifierItemRegistered", GLib.Variant("(s)", (item,)))
                watch_menu(conn, item)
            inv.return_value(None)
        elif method == "RegisterStatusNotifierHost":
            inv.return_value(None)
        else:
            inv.return_dbus_error("org.freedesktop.DBus.Error.UnknownMethod", method)

    def on_get(c, sender, path, ifname, prop):
        return {
            "RegisteredStatusNotifierItems": GLib.Variant("as", items),
            "IsStatusNotifierHostRegistered": GLib.Variant("b", True),
            "ProtocolVersion": GLib.Variant("i", 0),
        }[prop]

    conn.register_object(WATCHER_PATH, iface, on_call, on_get, None)

    # An item's owner leaving unregisters it.
    def on_owner(c, s, p, i, sig, params):
        name, old, new = params.unpack()
        if new == "":
            for it in [x for x in items if x.startswith(name + "/")]:
                items.remove(it)
                out("gone", it)
                emit("StatusNotifierItemUnregistered", GLib.Variant("(s)", (it,)))

    conn.signal_subscribe("org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
                          "/org/freedesktop/DBus", None, Gio.DBusSignalFlags.NONE, on_owner)

    def acquired(*_):
        # Own a host name too, as a real panel does, and announce it.
        Gio.bus_own_name_on_connection(conn, f"org.kde.StatusNotifierHost-{os.getpid()}",
                                       Gio.BusNameOwnerFlags.NONE, None, None)
        emit("StatusNotifierHostRegistered", None)
        out("ready")

    def lost(*_):
        out("error: could not own", WATCHER)
        loop.quit()

    Gio.bus_own_name_on_connection(conn, WATCHER, Gio.BusNameOwnerFlags.NONE, acquired, lost)
    loop.run()


def watch_menu(conn, item):
    name, path = split(item)
    try:
        menu = get_prop(conn, name, path, "org.kde.StatusNotifierItem", "Menu")
    except GLib.Error as e:
        out("no-menu", e.message)
        return

    def on_layout(c, s, p, i, sig, params):
        rev, parent = params.unpack()
        out("layout", rev, parent)

    conn.signal_subscribe(name, "com.canonical.dbusmenu", "LayoutUpdated", menu, None,
                          Gio.DBusSignalFlags.NONE, on_layout)


# ---------------------------------------------------------------- client


def split(item):
    i = item.index("/")
    return item[:i], item[i:]


def call(conn, name, path, iface, method, params, reply):
    return conn.call_sync(name, path, iface, method, params, GLib.VariantType(reply) if reply else None,
                          Gio.DBusCallFlags.NONE, 5000, None)


def get_prop(conn, name, path, iface, prop):
    v = call(conn, name, path, "org.freedesktop.DBus.Properties", "Get",
             GLib.Variant("(ss)", (iface, prop)), "(v)")
    return v.unpack()[0]


def items(conn):
    return get_prop(conn, WATCHER, WATCHER_PATH, WATCHER, "RegisteredStatusNotifierItems")


def menu_of(conn):
    its = items(conn)
    if not its:
        raise SystemExit("no StatusNotifierItem registered")
    name, path = split(its[0])
    return name, get_prop(conn, name, path, "org.kde.StatusNotifierItem", "Menu")


def layout(conn):
    name, menu = menu_of(conn)
    rev, tree = call(conn, name, menu, "com.canonical.dbusmenu", "GetLayout",
                     GLib.Variant("(iias)", (0, -1, [])), "(u(ia{sv}av))").unpack()
    return name, menu, tree


def walk(node, depth=0, trail=()):
    """Yields (depth, id, props, trail-of-labels) for every node below the root."""
    ident, props, children = node
    for ch in children:
        cid, cprops, _ = ch
        label = cprops.get("label", "").replace("_", "") if cprops.get("type") != "separator" else "---"
        yield depth, cid, cprops, trail + (label,)
        yield from walk(ch, depth + 1, trail + (label,))


def dump(show_ids):
    _, _, tree = layout(bus())
    for depth, ident, props, trail in walk(tree):
        flags = []
        if props.get("enabled") is False:
            flags.append("disabled")
        if props.get("visible") is False:
            flags.append("hidden")
        if props.get("children-display") == "submenu":
            flags.append("submenu")
        idtxt = f"[{ident}] " if show_ids else ""
        out("  " * depth + idtxt + trail[-1] + (f"  ({', '.join(flags)})" if flags else ""))


def find(tree, path):
    want = path.split(">")
    for _, ident, props, trail in walk(tree):
        if len(trail) == len(want) and all(t.startswith(w) for t, w in zip(trail, want)):
            return ident, props
    return None, None


def click(path, secs=10):
    """Clicks by label path. The app rebuilds its whole menu (new ids) on every engine event, so an
    id read a moment ago can be gone: then libdbusmenu answers "The ID supplied N does not refer to
    a menu item we have" and we read the layout again."""
    conn = bus()
    deadline = time.monotonic() + secs
    while True:
        name, menu, tree = layout(conn)
        ident, props = find(tree, path)
        why = None
        if ident is None:
            why = f"no menu item {path!r}"
        elif props.get("enabled") is False:
            why = f"menu item {path!r} is disabled"
        else:
            try:
                call(conn, name, menu, "com.canonical.dbusmenu", "Event",
                     GLib.Variant("(isvu)", (ident, "clicked", GLib.Variant("i", 0), int(time.time()))), None)
                out("clicked", ident, path)
                return
            except GLib.Error as e:
                why = e.message
        if time.monotonic() > deadline:
            raise SystemExit(why)
        time.sleep(0.1)


def wait(text, secs):
    conn = bus()
    deadline = time.monotonic() + secs
    while True:
        try:
            _, _, tree = layout(conn)
            for _, _, _, trail in walk(tree):
                if text in trail[-1]:
                    out("found", ">".join(trail))
                    return
        except (GLib.Error, SystemExit):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for a menu label containing {text!r}")
        time.sleep(0.1)


if __name__ == "__main__":
    a = sys.argv[1:]
    cmd = a[0] if a else "help"
    if cmd == "watcher":
        watcher()
    elif cmd == "items":
        for i in items(bus()):
            out(i)
    elif cmd == "dump":
        dump("--ids" in a)
    elif cmd == "wait":
        wait(a[1], float(a[2]) if len(a) > 2 else 20)
    elif cmd == "click":
        click(a[1])
    else:
        out(__doc__)
