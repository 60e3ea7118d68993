package com.huawei.services.runtime.stratus;

import java.lang.annotation.Annotation;
import java.lang.reflect.AccessibleObject;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the JSON writer and binder need to know about a class: which
 * properties to write, where each JSON key goes when reading, and how to make
 * an instance. Computed once per class.
 */
final class Beans {

    private static final ConcurrentHashMap<Class<?>, Info> CACHE = new ConcurrentHashMap<Class<?>, Info>();

    private static final String GSON_NAME = "com.google.gson.annotations.SerializedName";
    private static final String JACKSON_NAME = "com.fasterxml.jackson.annotation.JsonProperty";
    private static final String JACKSON_IGNORE = "com.fasterxml.jackson.annotation.JsonIgnore";

    private Beans() {
    }

    static Info of(Class<?> cls) {
        Info info = CACHE.get(cls);
        if (info == null) {
            info = new Info(cls);
            Info prior = CACHE.putIfAbsent(cls, info);
            if (prior != null) {
                info = prior;
            }
        }
        return info;
    }

    /** Classes of the JDK itself; they are written as their toString(). */
    static boolean isJdkType(Class<?> cls) {
        String n = cls.getName();
        return n.startsWith("java.") || n.startsWith("javax.") || n.startsWith("jdk.")
                || n.startsWith("sun.") || n.startsWith("com.sun.");
    }

    static Object unwrapOptional(Object v) {
        if (v instanceof java.util.Optional) {
            return ((java.util.Optional<?>) v).orElse(null);
        }
        return v;
    }

    /** JSON tree types of common libraries the user's code may bundle. */
    static String treeFamily(Class<?> cls) {
        for (Class<?> c = cls; c != null && c != Object.class; c = c.getSuperclass()) {
            String n = c.getName();
            if (n.equals("com.google.gson.JsonElement")) {
                return "gson";
            }
            if (n.equals("com.fasterxml.jackson.databind.JsonNode")) {
                return "jackson";
            }
            if (n.equals("org.json.JSONObject") || n.equals("org.json.JSONArray")) {
                return "org.json";
            }
        }
        return null;
    }

    static boolean isJsonTree(Class<?> cls) {
        return !cls.isInterface() && treeFamily(cls) != null;
    }

    private static volatile Object jacksonMapper;

    /**
     * Parses JSON text with the library that owns {@code type} (Gson,
     * Jackson or org.json, loaded from the user's code).
     */
    static Object parseWithLibrary(String json, Class<?> type) throws Exception {
        String family = treeFamily(type);
        ClassLoader cl = type.getClassLoader();
        Object tree;
        try {
            if ("gson".equals(family)) {
                Class<?> parser = Class.forName("com.google.gson.JsonParser", true, cl);
                Method m;
                try {
                    m = parser.getMethod("parseString", String.class);
                    tree = m.invoke(null, json);
                } catch (NoSuchMethodException old) {
                    m = parser.getMethod("parse", String.class);
                    tree = m.invoke(parser.getConstructor().newInstance(), json);
                }
            } else if ("jackson".equals(family)) {
                Class<?> om = Class.forName("com.fasterxml.jackson.databind.ObjectMapper", true, cl);
                Object mapper = jacksonMapper;
                if (mapper == null || mapper.getClass() != om) {
                    mapper = om.getConstructor().newInstance();
                    jacksonMapper = mapper;
                }
                tree = om.getMethod("readTree", String.class).invoke(mapper, json);
            } else {
                tree = type.getConstructor(String.class).newInstance(json);
            }
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            throw cause instanceof Exception ? (Exception) cause : e;
        }
        if (!type.isInstance(tree)) {
            throw new IllegalArgumentException("the event is not a " + type.getName()
                    + (tree == null ? "" : " but a " + tree.getClass().getName()));
        }
        return tree;
    }

    /** Lower case without '_' and '-': "ShardID", "shard_id" and "shardId" all match. */
    static String loose(String name) {
        StringBuilder b = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c != '_' && c != '-') {
                b.append(Character.toLowerCase(c));
            }
        }
        return b.toString();
    }

    static String decapitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        if (s.length() > 1 && Character.isUpperCase(s.charAt(0)) && Character.isUpperCase(s.charAt(1))) {
            return s;
        }
        return Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }

    static void open(AccessibleObject o) {
        try {
            o.setAccessible(true);
        } catch (RuntimeException e) {
            // Not opened to us (a JDK class on Java 9+): left as it is.
        }
    }

    /** JSON names of a field from Gson/Jackson annotations; null when none; empty array when ignored. */
    private static String[] annotatedNames(Field f) {
        Annotation[] annotations;
        try {
            annotations = f.getDeclaredAnnotations();
        } catch (RuntimeException e) {
            return null;
        } catch (LinkageError e) {
            return null;
        }
        for (Annotation a : annotations) {
            String type = a.annotationType().getName();
            try {
                if (type.equals(GSON_NAME)) {
                    String value = (String) a.annotationType().getMethod("value").invoke(a);
                    String[] alternate = new String[0];
                    try {
                        alternate = (String[]) a.annotationType().getMethod("alternate").invoke(a);
                    } catch (NoSuchMethodException old) {
                        // Gson before 2.4
                    }
                    String[] all = new String[alternate.length + 1];
                    all[0] = value;
                    System.arraycopy(alternate, 0, all, 1, alternate.length);
                    return all;
                }
                if (type.equals(JACKSON_NAME)) {
                    String value = (String) a.annotationType().getMethod("value").invoke(a);
                    if (value != null && !value.isEmpty()) {
                        return new String[] {value};
                    }
                }
                if (type.equals(JACKSON_IGNORE)) {
                    Object on = a.annotationType().getMethod("value").invoke(a);
                    if (Boolean.TRUE.equals(on)) {
                        return new String[0];
                    }
                }
            } catch (Exception e) {
                // An annotation we cannot read: ignore it.
            }
        }
        return null;
    }

    private static boolean serialisable(Field f) {
        int m = f.getModifiers();
        return !Modifier.isStatic(m) && !Modifier.isTransient(m) && !f.isSynthetic();
    }

    /** The class and its superclasses, top first, without Object and JDK classes. */
    private static List<Class<?>> hierarchy(Class<?> cls) {
        ArrayList<Class<?>> chain = new ArrayList<Class<?>>();
        for (Class<?> c = cls; c != null && c != Object.class && !isJdkType(c); c = c.getSuperclass()) {
            chain.add(0, c);
        }
        return chain;
    }

    /** Reads one property for the writer. */
    static final class Reader {
        final String name;
        private final Field field;
        private final Method getter;

        Reader(String name, Field field, Method getter) {
            this.name = name;
            this.field = field;
            this.getter = getter;
        }

        Object get(Object target) throws Exception {
            if (field != null) {
                return field.get(target);
            }
            try {
                return getter.invoke(target);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                throw cause instanceof Exception ? (Exception) cause : e;
            }
        }
    }

    /** Stores one property for the binder. */
    static final class Setter {
        private final Field field;
        private final Method method;

        Setter(Field field, Method method) {
            this.field = field;
            this.method = method;
        }

        Type type() {
            return field != null ? field.getGenericType() : method.getGenericParameterTypes()[0];
        }

        Class<?> rawType() {
            return field != null ? field.getType() : method.getParameterTypes()[0];
        }

        void set(Object target, Object value) throws Exception {
            if (field != null) {
                field.set(target, value);
                return;
            }
            try {
                method.invoke(target, value);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                throw cause instanceof Exception ? (Exception) cause : e;
            }
        }
    }

    /** Java 16+ record support, found by reflection so the runtime stays Java 8 code. */
    static final class RecordShape {
        final String[] names;
        final Type[] types;
        final Class<?>[] rawTypes;
        final Constructor<?> constructor;

        RecordShape(String[] names, Type[] types, Class<?>[] rawTypes, Constructor<?> constructor) {
            this.names = names;
            this.types = types;
            this.rawTypes = rawTypes;
            this.constructor = constructor;
        }
    }

    private static final Method IS_RECORD = lookup("isRecord");
    private static final Method RECORD_COMPONENTS = lookup("getRecordComponents");

    private static Method lookup(String name) {
        try {
            return Class.class.getMethod(name);
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    static final class Info {
        final Class<?> cls;
        private volatile Reader[] readers;
        private volatile Map<String, Setter> exact;
        private volatile Map<String, Setter> looseNames;
        private volatile boolean constructorLooked;
        private volatile Constructor<?> constructor;
        private volatile boolean recordLooked;
        private volatile RecordShape record;

        Info(Class<?> cls) {
            this.cls = cls;
        }

        Reader[] readers() {
            Reader[] r = readers;
            if (r == null) {
                r = buildReaders();
                readers = r;
            }
            return r;
        }

        private Reader[] buildReaders() {
            LinkedHashMap<String, Reader> byName = new LinkedHashMap<String, Reader>();
            for (Class<?> c : hierarchy(cls)) {
                for (Field f : c.getDeclaredFields()) {
                    if (!serialisable(f)) {
                        continue;
                    }
                    String[] names = annotatedNames(f);
                    if (names != null && names.length == 0) {
                        continue;
                    }
                    String name = names != null ? names[0] : f.getName();
                    open(f);
                    byName.remove(name); // a subclass field hides the superclass one
                    byName.put(name, new Reader(name, f, null));
                }
            }
            if (byName.isEmpty()) {
                // No fields at all: fall back to public getters.
                Method[] methods = cls.getMethods();
                Arrays.sort(methods, new Comparator<Method>() {
                    @Override
                    public int compare(Method a, Method b) {
                        return a.getName().compareTo(b.getName());
                    }
                });
                for (Method m : methods) {
                    String prop = getterProperty(m);
                    if (prop != null && !byName.containsKey(prop)) {
                        open(m);
                        byName.put(prop, new Reader(prop, null, m));
                    }
                }
            }
            return byName.values().toArray(new Reader[0]);
        }

        private static String getterProperty(Method m) {
            if (Modifier.isStatic(m.getModifiers()) || m.getParameterTypes().length != 0
                    || m.getDeclaringClass() == Object.class || m.isSynthetic() || m.isBridge()) {
                return null;
            }
            String n = m.getName();
            Class<?> rt = m.getReturnType();
            if (n.startsWith("get") && n.length() > 3 && rt != void.class) {
                return decapitalize(n.substring(3));
            }
            if (n.startsWith("is") && n.length() > 2 && (rt == boolean.class || rt == Boolean.class)) {
                return decapitalize(n.substring(2));
            }
            return null;
        }

        /** Where JSON key {@code key} is stored: exact name first, then a loose match. */
        Setter setter(String key) {
            Map<String, Setter> e = exact;
            if (e == null) {
                buildSetters();
                e = exact;
            }
            Setter s = e.get(key);
            if (s == null) {
                s = looseNames.get(loose(key));
            }
            return s;
        }

        private synchronized void buildSetters() {
            if (exact != null) {
                return;
            }
            HashMap<String, Setter> byName = new HashMap<String, Setter>();
            HashMap<String, Field> plainField = new HashMap<String, Field>();
            for (Class<?> c : hierarchy(cls)) {
                for (Field f : c.getDeclaredFields()) {
                    int mods = f.getModifiers();
                    if (Modifier.isStatic(mods) || Modifier.isTransient(mods) || f.isSynthetic()) {
                        continue;
                    }
                    String[] names = annotatedNames(f);
                    if (names != null && names.length == 0) {
                        continue;
                    }
                    open(f);
                    Setter s = new Setter(f, null);
                    if (names != null) {
                        for (String n : names) {
                            byName.put(n, s);
                        }
                    } else {
                        byName.put(f.getName(), s);
                        plainField.put(f.getName(), f);
                    }
                }
            }
            for (Method m : cls.getMethods()) {
                String n = m.getName();
                if (!n.startsWith("set") || n.length() <= 3 || m.getParameterTypes().length != 1
                        || Modifier.isStatic(m.getModifiers()) || m.isBridge() || m.isSynthetic()) {
                    continue;
                }
                String prop = decapitalize(n.substring(3));
                Setter existing = byName.get(prop);
                Field f = plainField.get(prop);
                boolean take;
                if (existing == null) {
                    take = true;
                } else if (existing.field != null) {
                    // A setter beats the plain field of the same name, not an annotated one.
                    take = existing.field == f;
                } else {
                    // Overloaded setters: the one taking the field's type wins.
                    take = f != null && m.getParameterTypes()[0] == f.getType();
                }
                if (take) {
                    open(m);
                    byName.put(prop, new Setter(null, m));
                }
            }
            HashMap<String, Setter> byLoose = new HashMap<String, Setter>();
            for (Map.Entry<String, Setter> en : byName.entrySet()) {
                String k = loose(en.getKey());
                if (!byLoose.containsKey(k)) {
                    byLoose.put(k, en.getValue());
                }
            }
            looseNames = byLoose;
            exact = byName;
        }

        /** The record components, or null when the class is not a record. */
        RecordShape record() {
            if (recordLooked) {
                return record;
            }
            RecordShape shape = null;
            try {
                if (IS_RECORD != null && Boolean.TRUE.equals(IS_RECORD.invoke(cls))) {
                    Object[] comps = (Object[]) RECORD_COMPONENTS.invoke(cls);
                    String[] names = new String[comps.length];
                    Type[] types = new Type[comps.length];
                    Class<?>[] raw = new Class<?>[comps.length];
                    for (int i = 0; i < comps.length; i++) {
                        Class<?> rc = comps[i].getClass();
                        names[i] = (String) rc.getMethod("getName").invoke(comps[i]);
                        types[i] = (Type) rc.getMethod("getGenericType").invoke(comps[i]);
                        raw[i] = (Class<?>) rc.getMethod("getType").invoke(comps[i]);
                    }
                    Constructor<?> ctor = cls.getDeclaredConstructor(raw);
                    open(ctor);
                    shape = new RecordShape(names, types, raw, ctor);
                }
            } catch (Exception e) {
                shape = null;
            }
            record = shape;
            recordLooked = true;
            return shape;
        }

        /** A new instance: the no-argument constructor, else an uninitialised object (as Gson does). */
        Object newInstance() throws Exception {
            if (cls.isInterface() || Modifier.isAbstract(cls.getModifiers())) {
                throw new IllegalArgumentException("cannot create an instance of abstract type " + cls.getName());
            }
            if (!constructorLooked) {
                try {
                    Constructor<?> c = cls.getDeclaredConstructor();
                    open(c);
                    constructor = c;
                } catch (NoSuchMethodException e) {
                    constructor = null;
                }
                constructorLooked = true;
            }
            Constructor<?> c = constructor;
            if (c != null) {
                try {
                    return c.newInstance();
                } catch (InvocationTargetException e) {
                    Throwable cause = e.getCause();
                    throw cause instanceof Exception ? (Exception) cause : e;
                }
            }
            return Unsafe.allocate(cls);
        }
    }

    /** sun.misc.Unsafe.allocateInstance, for classes without a no-argument constructor. */
    private static final class Unsafe {
        private static Object theUnsafe;
        private static Method allocate;

        static synchronized Object allocate(Class<?> cls) throws Exception {
            if (allocate == null) {
                try {
                    Class<?> u = Class.forName("sun.misc.Unsafe");
                    Field f = u.getDeclaredField("theUnsafe");
                    f.setAccessible(true);
                    theUnsafe = f.get(null);
                    allocate = u.getMethod("allocateInstance", Class.class);
                } catch (Exception e) {
                    throw new IllegalArgumentException(cls.getName() + " has no no-argument constructor");
                }
            }
            return allocate.invoke(theUnsafe, cls);
        }
    }

    /** The raw class of a type (Object for type variables and wildcards). */
    static Class<?> raw(Type t) {
        if (t instanceof Class) {
            return (Class<?>) t;
        }
        if (t instanceof ParameterizedType) {
            return raw(((ParameterizedType) t).getRawType());
        }
        if (t instanceof java.lang.reflect.GenericArrayType) {
            Class<?> c = raw(((java.lang.reflect.GenericArrayType) t).getGenericComponentType());
            return java.lang.reflect.Array.newInstance(c, 0).getClass();
        }
        if (t instanceof java.lang.reflect.WildcardType) {
            Type[] up = ((java.lang.reflect.WildcardType) t).getUpperBounds();
            return up.length > 0 ? raw(up[0]) : Object.class;
        }
        if (t instanceof java.lang.reflect.TypeVariable) {
            Type[] b = ((java.lang.reflect.TypeVariable<?>) t).getBounds();
            return b.length > 0 ? raw(b[0]) : Object.class;
        }
        return Object.class;
    }
}
