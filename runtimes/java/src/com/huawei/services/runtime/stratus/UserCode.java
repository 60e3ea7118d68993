package com.huawei.services.runtime.stratus;

import com.huawei.services.runtime.Context;
import java.io.File;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;

/**
 * The user's classes: the class loader over the code package, and handler
 * and initializer resolution ({@code package.Class.method}).
 */
final class UserCode {

    final ClassLoader loader;
    final File codeRoot;
    /** One instance per class, shared by the handler and the initializer. */
    private final HashMap<Class<?>, Object> instances = new HashMap<Class<?>, Object>();

    UserCode(File codeRoot) {
        this.codeRoot = codeRoot;
        this.loader = new URLClassLoader(classPath(codeRoot), UserCode.class.getClassLoader());
    }

    /**
     * The code root itself (loose classes), {@code classes/} when present,
     * every jar directly in the root, then every jar in {@code lib/}.
     * The parent (the runtime's own class path) comes first, so the
     * platform's {@code com.huawei.services.runtime} classes win over copies
     * bundled in a user jar.
     */
    static URL[] classPath(File root) {
        ArrayList<URL> urls = new ArrayList<URL>();
        add(urls, root);
        File classes = new File(root, "classes");
        if (classes.isDirectory()) {
            add(urls, classes);
        }
        addJars(urls, root);
        addJars(urls, new File(root, "lib"));
        return urls.toArray(new URL[0]);
    }

    private static void addJars(List<URL> urls, File dir) {
        File[] files = dir.listFiles();
        if (files == null) {
            return;
        }
        Arrays.sort(files);
        for (File f : files) {
            if (f.isFile() && f.getName().toLowerCase(Locale.ROOT).endsWith(".jar")) {
                add(urls, f);
            }
        }
    }

    private static void add(List<URL> urls, File f) {
        try {
            urls.add(f.toURI().toURL());
        } catch (MalformedURLException e) {
            // cannot happen for a local file
        }
    }

    /** A resolved user method and the object to call it on. */
    static final class Entry {
        final String spec;
        final Method method;
        final Object target;
        final Type eventType;
        final Class<?> eventClass;
        /** How the arguments are made: (event, context), (event), (context) or (). */
        final int shape;

        static final int EVENT_CONTEXT = 0;
        static final int EVENT = 1;
        static final int CONTEXT = 2;
        static final int NONE = 3;

        Entry(String spec, Method method, Object target, int shape) {
            this.spec = spec;
            this.method = method;
            this.target = target;
            this.shape = shape;
            if (shape == EVENT_CONTEXT || shape == EVENT) {
                this.eventType = method.getGenericParameterTypes()[0];
                this.eventClass = method.getParameterTypes()[0];
            } else {
                this.eventType = null;
                this.eventClass = null;
            }
        }

        /** Calls the method; exceptions from user code come out unwrapped. */
        Object call(byte[] body, Context context) throws Throwable {
            Object[] args;
            switch (shape) {
                case EVENT_CONTEXT:
                    args = new Object[] {event(body), context};
                    break;
                case EVENT:
                    args = new Object[] {event(body)};
                    break;
                case CONTEXT:
                    args = new Object[] {context};
                    break;
                default:
                    args = new Object[0];
            }
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause() != null ? e.getCause() : e;
            }
        }

        private Object event(byte[] body) throws Exception {
            if (eventClass == byte[].class) {
                return body;
            }
            String text = new String(body, StandardCharsets.UTF_8);
            if (eventClass == String.class || eventClass == CharSequence.class) {
                return text;
            }
            if (Beans.treeFamily(eventClass) != null) {
                return Beans.parseWithLibrary(text.trim().isEmpty() ? "{}" : text, eventClass);
            }
            Object tree;
            if (text.trim().isEmpty()) {
                tree = new LinkedHashMap<String, Object>();
            } else {
                try {
                    tree = Json.parse(text);
                } catch (IllegalArgumentException e) {
                    if (eventClass == Object.class) {
                        return text; // not JSON: hand it over as text
                    }
                    throw new IllegalArgumentException("the event is not JSON, so it cannot be converted to "
                            + eventType.getTypeName() + " (" + e.getMessage() + ")");
                }
            }
            return Binder.bind(tree, eventType);
        }
    }

    /** Resolves the handler: a public method (T event, Context context) of a class. */
    Entry handler(String spec) throws Failure.InitError {
        String[] parts = split(spec, "handler");
        Class<?> cls = load(parts[0], spec, "handler");
        Method best = null;
        int bestScore = -1;
        for (Method m : cls.getMethods()) {
            if (!m.getName().equals(parts[1]) || m.isBridge() || m.isSynthetic()) {
                continue;
            }
            Class<?>[] p = m.getParameterTypes();
            int score;
            if (p.length == 2 && p[1] == Context.class) {
                score = 100;
            } else if (p.length == 2 && p[1].isAssignableFrom(Context.class)) {
                score = 80;
            } else if (p.length == 1) {
                score = 40;
            } else if (p.length == 0) {
                score = 20;
            } else {
                continue;
            }
            if (m.getDeclaringClass() == cls) {
                score += 5;
            }
            if (p.length > 0 && p[0] != Object.class) {
                score += 2;
            }
            if (score > bestScore) {
                best = m;
                bestScore = score;
            }
        }
        if (best == null) {
            throw new Failure.InitError("java.lang.NoSuchMethodException",
                    "handler '" + spec + "': class " + cls.getName() + " has no public method '" + parts[1]
                            + "' taking (event, Context)" + privateHint(cls, parts[1]),
                    null);
        }
        Class<?>[] p = best.getParameterTypes();
        int shape;
        if (p.length == 2) {
            shape = Entry.EVENT_CONTEXT;
        } else if (p.length == 1) {
            shape = p[0] == Context.class ? Entry.CONTEXT : Entry.EVENT;
        } else {
            shape = Entry.NONE;
        }
        return new Entry(spec, best, target(cls, best, spec, "handler"), shape);
    }

    /** Resolves the initializer: a public method (Context context) of a class. */
    Entry initializer(String spec) throws Failure.InitError {
        String[] parts = split(spec, "initializer");
        Class<?> cls = load(parts[0], spec, "initializer");
        Method best = null;
        int bestScore = -1;
        for (Method m : cls.getMethods()) {
            if (!m.getName().equals(parts[1]) || m.isBridge() || m.isSynthetic()) {
                continue;
            }
            Class<?>[] p = m.getParameterTypes();
            int score;
            if (p.length == 1 && p[0] == Context.class) {
                score = 100;
            } else if (p.length == 1 && p[0].isAssignableFrom(Context.class)) {
                score = 80;
            } else if (p.length == 0) {
                score = 40;
            } else {
                continue;
            }
            if (score > bestScore) {
                best = m;
                bestScore = score;
            }
        }
        if (best == null) {
            throw new Failure.InitError("java.lang.NoSuchMethodException",
                    "initializer '" + spec + "': class " + cls.getName() + " has no public method '" + parts[1]
                            + "' taking (Context)" + privateHint(cls, parts[1]),
                    null);
        }
        int shape = best.getParameterTypes().length == 1 ? Entry.CONTEXT : Entry.NONE;
        return new Entry(spec, best, target(cls, best, spec, "initializer"), shape);
    }

    private static String privateHint(Class<?> cls, String name) {
        try {
            for (Method m : cls.getDeclaredMethods()) {
                if (m.getName().equals(name) && !Modifier.isPublic(m.getModifiers())) {
                    return " (a method of that name exists but is not public)";
                }
            }
        } catch (LinkageError e) {
            // cannot tell
        }
        return "";
    }

    private static String[] split(String spec, String what) throws Failure.InitError {
        int dot = spec.lastIndexOf('.');
        if (dot <= 0 || dot == spec.length() - 1) {
            throw new Failure.InitError("InvalidHandler",
                    what + " '" + spec + "' is not of the form package.Class.method", null);
        }
        return new String[] {spec.substring(0, dot), spec.substring(dot + 1)};
    }

    private Class<?> load(String className, String spec, String what) throws Failure.InitError {
        String name = className;
        while (true) {
            try {
                return Class.forName(name, true, loader);
            } catch (ClassNotFoundException e) {
                // Outer.Inner written with a dot: try Outer$Inner.
                int dot = name.lastIndexOf('.');
                if (dot > 0) {
                    name = name.substring(0, dot) + '$' + name.substring(dot + 1);
                    continue;
                }
                throw new Failure.InitError("java.lang.ClassNotFoundException",
                        "failed to load " + what + " '" + spec + "': class " + className
                                + " not found in the code package (" + codeRoot + ")",
                        null);
            } catch (ExceptionInInitializerError e) {
                throw new Failure.InitError("failed to load " + what + " '" + spec
                        + "': static initialisation of class " + className + " failed", e);
            } catch (LinkageError e) {
                throw new Failure.InitError("failed to load " + what + " '" + spec + "'", e);
            }
        }
    }

    /** The object to call the method on: null for static methods, else one shared instance. */
    private Object target(Class<?> cls, Method m, String spec, String what) throws Failure.InitError {
        Beans.open(m); // public methods of non-public classes
        if (Modifier.isStatic(m.getModifiers())) {
            return null;
        }
        synchronized (instances) {
            Object existing = instances.get(cls);
            if (existing != null) {
                return existing;
            }
            Constructor<?> ctor;
            try {
                ctor = cls.getDeclaredConstructor();
            } catch (NoSuchMethodException e) {
                throw new Failure.InitError("java.lang.NoSuchMethodException",
                        "failed to load " + what + " '" + spec + "': class " + cls.getName()
                                + " has no constructor without arguments",
                        null);
            }
            Beans.open(ctor);
            Object instance;
            try {
                instance = ctor.newInstance();
            } catch (InvocationTargetException e) {
                throw new Failure.InitError("failed to load " + what + " '" + spec + "': constructor of "
                        + cls.getName() + " failed", e.getCause() != null ? e.getCause() : e);
            } catch (Exception e) {
                throw new Failure.InitError("failed to load " + what + " '" + spec + "': cannot create "
                        + cls.getName(), e);
            } catch (LinkageError e) {
                throw new Failure.InitError("failed to load " + what + " '" + spec + "': cannot create "
                        + cls.getName(), e);
            }
            instances.put(cls, instance);
            return instance;
        }
    }
}
