package com.huawei.services.runtime.stratus;

import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.Collections;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Turns a parsed JSON tree ({@link Json#parse(String)}) into an object of a
 * given Java type: POJOs (through setters or fields, any visibility; unknown
 * keys ignored; keys matched exactly, then ignoring case, '_' and '-'),
 * records, maps, collections, arrays, enums, primitives, boxed types, String,
 * BigDecimal/BigInteger, and the JSON tree types of Gson, Jackson and org.json
 * when the user's code bundles them. Generic type arguments are followed.
 *
 * <p>Scalars are converted leniently: a JSON string holding a number fills a
 * number, a number fills a String, a JSON object or array fills a String with
 * its JSON text.
 */
final class Binder {

    private static final Map<TypeVariable<?>, Type> NO_BINDINGS = Collections.emptyMap();

    private Binder() {
    }

    /**
     * Converts {@code tree} to {@code type}.
     *
     * @throws IllegalArgumentException when the JSON does not fit the type
     */
    static Object bind(Object tree, Type type) {
        try {
            return convert(tree, type, "$");
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cannot convert the event to " + type.getTypeName() + ": " + e, e);
        } catch (Exception e) {
            throw new IllegalArgumentException("cannot convert the event to " + type.getTypeName() + ": " + e, e);
        }
    }

    private static IllegalArgumentException mismatch(String path, String wanted, Object v) {
        return new IllegalArgumentException("cannot convert JSON " + kind(v) + " at " + path + " to " + wanted);
    }

    private static String kind(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Map) {
            return "object";
        }
        if (v instanceof List) {
            return "array";
        }
        if (v instanceof String) {
            return "string";
        }
        if (v instanceof Boolean) {
            return "boolean";
        }
        return "number " + v;
    }

    static Object convert(Object v, Type t, String path) throws Exception {
        if (t instanceof Class) {
            return toClass(v, (Class<?>) t, t, path);
        }
        if (t instanceof ParameterizedType) {
            return toClass(v, Beans.raw(t), t, path);
        }
        if (t instanceof GenericArrayType) {
            return toArray(v, ((GenericArrayType) t).getGenericComponentType(), path);
        }
        if (t instanceof WildcardType) {
            Type[] up = ((WildcardType) t).getUpperBounds();
            return convert(v, up.length > 0 ? up[0] : Object.class, path);
        }
        if (t instanceof TypeVariable) {
            Type[] bounds = ((TypeVariable<?>) t).getBounds();
            return convert(v, bounds.length > 0 ? bounds[0] : Object.class, path);
        }
        return v;
    }

    private static Object toClass(Object v, Class<?> cls, Type full, String path) throws Exception {
        if (cls.isPrimitive()) {
            return primitive(v, cls, path);
        }
        if (v == null) {
            return null;
        }
        if (cls == Object.class) {
            return v;
        }
        if (cls == String.class || cls == CharSequence.class) {
            return text(v);
        }
        if (cls == Integer.class || cls == Long.class || cls == Double.class || cls == Float.class
                || cls == Short.class || cls == Byte.class || cls == Boolean.class || cls == Character.class) {
            if (v instanceof String && ((String) v).trim().isEmpty() && cls != Character.class) {
                return null;
            }
            return primitive(v, unbox(cls), path);
        }
        if (cls == BigDecimal.class || cls == BigInteger.class || cls == Number.class) {
            return bigNumber(v, cls, path);
        }
        if (cls.isEnum()) {
            return enumValue(v, cls);
        }
        if (cls.isArray()) {
            Type component = full instanceof GenericArrayType
                    ? ((GenericArrayType) full).getGenericComponentType() : cls.getComponentType();
            return toArray(v, component, path);
        }
        if (Map.class.isAssignableFrom(cls)) {
            return toMap(v, cls, full, path);
        }
        if (Collection.class.isAssignableFrom(cls) || cls == Iterable.class) {
            return toCollection(v, cls, full, path);
        }
        if (Beans.treeFamily(cls) != null) {
            return Beans.parseWithLibrary(Json.write(v), cls);
        }
        if (cls == Date.class) {
            if (v instanceof Number) {
                return new Date(((Number) v).longValue());
            }
            throw mismatch(path, cls.getName(), v);
        }
        if (cls == java.util.Optional.class) {
            Type inner = Object.class;
            if (full instanceof ParameterizedType) {
                inner = ((ParameterizedType) full).getActualTypeArguments()[0];
            }
            return java.util.Optional.ofNullable(convert(v, inner, path));
        }
        if (Beans.isJdkType(cls)) {
            return fromText(v, cls, path);
        }
        if (!(v instanceof Map)) {
            throw mismatch(path, cls.getName(), v);
        }
        return pojo((Map<?, ?>) v, cls, full, path);
    }

    private static Class<?> unbox(Class<?> c) {
        if (c == Integer.class) {
            return int.class;
        }
        if (c == Long.class) {
            return long.class;
        }
        if (c == Double.class) {
            return double.class;
        }
        if (c == Float.class) {
            return float.class;
        }
        if (c == Short.class) {
            return short.class;
        }
        if (c == Byte.class) {
            return byte.class;
        }
        if (c == Boolean.class) {
            return boolean.class;
        }
        return char.class;
    }

    /** JSON text for a String target: strings as they are, other values as their JSON. */
    private static String text(Object v) {
        if (v instanceof String) {
            return (String) v;
        }
        if (v instanceof Number || v instanceof Boolean) {
            return v.toString();
        }
        return Json.write(v);
    }

    private static Object primitive(Object v, Class<?> cls, String path) {
        if (cls == boolean.class) {
            if (v == null) {
                return Boolean.FALSE;
            }
            if (v instanceof Boolean) {
                return v;
            }
            if (v instanceof String) {
                String s = ((String) v).trim();
                if (s.equalsIgnoreCase("true")) {
                    return Boolean.TRUE;
                }
                if (s.equalsIgnoreCase("false") || s.isEmpty()) {
                    return Boolean.FALSE;
                }
            }
            if (v instanceof Number) {
                return Boolean.valueOf(((Number) v).doubleValue() != 0);
            }
            throw mismatch(path, "boolean", v);
        }
        if (cls == char.class) {
            if (v == null) {
                return Character.valueOf('\0');
            }
            if (v instanceof String) {
                String s = (String) v;
                return Character.valueOf(s.isEmpty() ? '\0' : s.charAt(0));
            }
            if (v instanceof Number) {
                return Character.valueOf((char) ((Number) v).intValue());
            }
            throw mismatch(path, "char", v);
        }
        Number n;
        if (v == null) {
            n = Integer.valueOf(0);
        } else if (v instanceof Number) {
            n = (Number) v;
        } else if (v instanceof String) {
            String s = ((String) v).trim();
            if (s.isEmpty()) {
                n = Integer.valueOf(0);
            } else {
                try {
                    n = new BigDecimal(s);
                } catch (NumberFormatException e) {
                    throw mismatch(path, cls.getName(), v);
                }
            }
        } else if (v instanceof Boolean) {
            n = Integer.valueOf(((Boolean) v).booleanValue() ? 1 : 0);
        } else {
            throw mismatch(path, cls.getName(), v);
        }
        if (cls == int.class) {
            return Integer.valueOf(n.intValue());
        }
        if (cls == long.class) {
            return Long.valueOf(n.longValue());
        }
        if (cls == double.class) {
            return Double.valueOf(n.doubleValue());
        }
        if (cls == float.class) {
            return Float.valueOf(n.floatValue());
        }
        if (cls == short.class) {
            return Short.valueOf(n.shortValue());
        }
        return Byte.valueOf(n.byteValue());
    }

    private static Object bigNumber(Object v, Class<?> cls, String path) {
        BigDecimal d;
        if (v instanceof BigDecimal) {
            d = (BigDecimal) v;
        } else if (v instanceof BigInteger) {
            d = new BigDecimal((BigInteger) v);
        } else if (v instanceof Double) {
            d = new BigDecimal(v.toString());
        } else if (v instanceof Number) {
            d = BigDecimal.valueOf(((Number) v).longValue());
        } else if (v instanceof String) {
            String s = ((String) v).trim();
            if (s.isEmpty()) {
                return null;
            }
            try {
                d = new BigDecimal(s);
            } catch (NumberFormatException e) {
                throw mismatch(path, cls.getName(), v);
            }
        } else {
            throw mismatch(path, cls.getName(), v);
        }
        if (cls == BigInteger.class) {
            return d.toBigInteger();
        }
        if (cls == Number.class && v instanceof Number) {
            return v;
        }
        return d;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object enumValue(Object v, Class<?> cls) {
        if (!(v instanceof String)) {
            return null;
        }
        String s = (String) v;
        Object[] constants = cls.getEnumConstants();
        for (Object c : constants) {
            if (((Enum) c).name().equals(s)) {
                return c;
            }
        }
        for (Object c : constants) {
            if (((Enum) c).name().equalsIgnoreCase(s)) {
                return c;
            }
        }
        return null;
    }

    private static Object toArray(Object v, Type componentType, String path) throws Exception {
        Class<?> component = Beans.raw(componentType);
        if (v instanceof String) {
            if (component == byte.class) {
                String s = (String) v;
                try {
                    return Base64.getDecoder().decode(s);
                } catch (IllegalArgumentException e) {
                    return Base64.getMimeDecoder().decode(s);
                }
            }
            if (component == char.class) {
                return ((String) v).toCharArray();
            }
        }
        if (!(v instanceof List)) {
            throw mismatch(path, component.getName() + "[]", v);
        }
        List<?> list = (List<?>) v;
        Object array = Array.newInstance(component, list.size());
        for (int i = 0; i < list.size(); i++) {
            Array.set(array, i, convert(list.get(i), componentType, path + "[" + i + "]"));
        }
        return array;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object toMap(Object v, Class<?> cls, Type full, String path) throws Exception {
        if (v instanceof String) {
            // A map carried as JSON text (CTS request/response, for one): parse it.
            String s = ((String) v).trim();
            if (s.isEmpty()) {
                return null;
            }
            try {
                v = Json.parse(s);
            } catch (IllegalArgumentException e) {
                throw mismatch(path, "a map", v);
            }
        }
        if (!(v instanceof Map)) {
            throw mismatch(path, "a map", v);
        }
        Type[] kv = argumentsFor(full, Map.class);
        Type keyType = kv != null ? kv[0] : String.class;
        Type valueType = kv != null ? kv[1] : Object.class;
        Map result;
        if (cls.isInterface() || Modifier.isAbstract(cls.getModifiers())) {
            if (cls.isAssignableFrom(LinkedHashMap.class)) {
                result = new LinkedHashMap();
            } else if (cls.isAssignableFrom(TreeMap.class)) {
                result = new TreeMap();
            } else if (cls.isAssignableFrom(ConcurrentHashMap.class)) {
                result = new ConcurrentHashMap();
            } else {
                throw mismatch(path, cls.getName(), v);
            }
        } else {
            result = (Map) Beans.of(cls).newInstance();
        }
        Class<?> keyClass = Beans.raw(keyType);
        for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
            String k = (String) e.getKey();
            Object key = keyClass == String.class || keyClass == Object.class || keyClass == CharSequence.class
                    ? k : convert(k, keyType, path);
            Object value = convert(e.getValue(), valueType, path + "." + k);
            if (value == null && result instanceof ConcurrentMap) {
                continue; // it does not take nulls
            }
            result.put(key, value);
        }
        return result;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object toCollection(Object v, Class<?> cls, Type full, String path) throws Exception {
        if (!(v instanceof List)) {
            throw mismatch(path, "a collection", v);
        }
        Type[] args = argumentsFor(full, cls == Iterable.class ? Iterable.class : Collection.class);
        Type element = args != null ? args[0] : Object.class;
        Collection result;
        if (cls.isInterface() || Modifier.isAbstract(cls.getModifiers())) {
            if (cls.isAssignableFrom(ArrayList.class)) {
                result = new ArrayList();
            } else if (cls.isAssignableFrom(LinkedHashSet.class)) {
                result = new LinkedHashSet();
            } else if (cls.isAssignableFrom(TreeSet.class)) {
                result = new TreeSet();
            } else if (cls.isAssignableFrom(ArrayDeque.class)) {
                result = new ArrayDeque();
            } else {
                throw mismatch(path, cls.getName(), v);
            }
        } else {
            result = (Collection) Beans.of(cls).newInstance();
        }
        boolean noNulls = result instanceof Queue || result instanceof SortedSet;  // they do not take nulls
        List<?> list = (List<?>) v;
        for (int i = 0; i < list.size(); i++) {
            Object item = convert(list.get(i), element, path + "[" + i + "]");
            if (item == null && noNulls) {
                continue;
            }
            result.add(item);
        }
        return result;
    }

    /** JDK value types (UUID, URI, java.time ...) from their text form. */
    private static Object fromText(Object v, Class<?> cls, String path) throws Exception {
        if (cls.isInstance(v)) {
            return v;
        }
        if (!(v instanceof String)) {
            throw mismatch(path, cls.getName(), v);
        }
        String s = (String) v;
        String[] factories = {"valueOf", "fromString", "parse", "of"};
        for (String name : factories) {
            for (Class<?> param : new Class<?>[] {String.class, CharSequence.class}) {
                try {
                    Method m = cls.getMethod(name, param);
                    if (Modifier.isStatic(m.getModifiers()) && cls.isAssignableFrom(m.getReturnType())) {
                        return m.invoke(null, s);
                    }
                } catch (NoSuchMethodException e) {
                    // try the next form
                } catch (InvocationTargetException e) {
                    throw new IllegalArgumentException("cannot convert \"" + s + "\" at " + path + " to "
                            + cls.getName() + ": " + e.getCause(), e.getCause());
                }
            }
        }
        try {
            Constructor<?> c = cls.getConstructor(String.class);
            return c.newInstance(s);
        } catch (NoSuchMethodException e) {
            throw mismatch(path, cls.getName(), v);
        } catch (InvocationTargetException e) {
            throw new IllegalArgumentException("cannot convert \"" + s + "\" at " + path + " to "
                    + cls.getName() + ": " + e.getCause(), e.getCause());
        }
    }

    private static Object pojo(Map<?, ?> json, Class<?> cls, Type full, String path) throws Exception {
        Beans.Info info = Beans.of(cls);
        Map<TypeVariable<?>, Type> env = bindingsOf(full);
        Beans.RecordShape record = info.record();
        if (record != null) {
            Object[] args = new Object[record.names.length];
            HashMap<String, Object> byLoose = new HashMap<String, Object>();
            for (Map.Entry<?, ?> e : json.entrySet()) {
                byLoose.put(Beans.loose((String) e.getKey()), e.getValue());
            }
            for (int i = 0; i < args.length; i++) {
                String name = record.names[i];
                Object raw = json.containsKey(name) ? json.get(name) : byLoose.get(Beans.loose(name));
                args[i] = convert(raw, resolve(record.types[i], env), path + "." + name);
            }
            try {
                return record.constructor.newInstance(args);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                throw cause instanceof Exception ? (Exception) cause : e;
            }
        }
        Object target = info.newInstance();
        for (Map.Entry<?, ?> e : json.entrySet()) {
            String key = (String) e.getKey();
            Beans.Setter setter = info.setter(key);
            if (setter == null) {
                continue;
            }
            Type type = env.isEmpty() ? setter.type() : resolve(setter.type(), env);
            Object value = convert(e.getValue(), type, path + "." + key);
            if (value == null && setter.rawType().isPrimitive()) {
                continue;
            }
            setter.set(target, value);
        }
        return target;
    }

    // ------------------------------------------------------------------
    // Generic types

    /** Type variable bindings of a (possibly parameterised) class and its superclasses. */
    private static Map<TypeVariable<?>, Type> bindingsOf(Type t) {
        Class<?> raw = Beans.raw(t);
        if (!(t instanceof ParameterizedType) && !(raw.getGenericSuperclass() instanceof ParameterizedType)) {
            return NO_BINDINGS;
        }
        HashMap<TypeVariable<?>, Type> env = new HashMap<TypeVariable<?>, Type>();
        Type cur = t;
        while (cur != null) {
            Class<?> c = Beans.raw(cur);
            if (c == Object.class || Beans.isJdkType(c)) {
                break;
            }
            if (cur instanceof ParameterizedType) {
                TypeVariable<?>[] vars = c.getTypeParameters();
                Type[] args = ((ParameterizedType) cur).getActualTypeArguments();
                for (int i = 0; i < vars.length && i < args.length; i++) {
                    env.put(vars[i], resolve(args[i], env));
                }
            }
            cur = c.getGenericSuperclass();
        }
        return env;
    }

    /** {@code t} with the type variables in {@code env} replaced. */
    static Type resolve(Type t, Map<TypeVariable<?>, Type> env) {
        if (env.isEmpty()) {
            return t;
        }
        if (t instanceof TypeVariable) {
            Type bound = env.get(t);
            return bound != null ? bound : t;
        }
        if (t instanceof ParameterizedType) {
            ParameterizedType p = (ParameterizedType) t;
            Type[] args = p.getActualTypeArguments().clone();
            boolean changed = false;
            for (int i = 0; i < args.length; i++) {
                Type r = resolve(args[i], env);
                if (r != args[i]) {
                    args[i] = r;
                    changed = true;
                }
            }
            return changed ? new Parameterized(p.getRawType(), args, p.getOwnerType()) : t;
        }
        if (t instanceof GenericArrayType) {
            Type c = ((GenericArrayType) t).getGenericComponentType();
            Type r = resolve(c, env);
            return r == c ? t : new ArrayOf(r);
        }
        if (t instanceof WildcardType) {
            Type[] up = ((WildcardType) t).getUpperBounds();
            return up.length > 0 ? resolve(up[0], env) : Object.class;
        }
        return t;
    }

    /**
     * The type arguments {@code t} gives to {@code wanted} (a supertype of it):
     * {@code [String, Foo]} for {@code Map} when {@code t} is
     * {@code HashMap<String, Foo>} or {@code class FooMap extends HashMap<String, Foo>}.
     * Null when they cannot be found.
     */
    static Type[] argumentsFor(Type t, Class<?> wanted) {
        Class<?> raw = Beans.raw(t);
        HashMap<TypeVariable<?>, Type> env = new HashMap<TypeVariable<?>, Type>();
        if (t instanceof ParameterizedType) {
            TypeVariable<?>[] vars = raw.getTypeParameters();
            Type[] args = ((ParameterizedType) t).getActualTypeArguments();
            for (int i = 0; i < vars.length && i < args.length; i++) {
                env.put(vars[i], args[i]);
            }
        }
        return search(raw, env, wanted, 0);
    }

    private static Type[] search(Class<?> c, Map<TypeVariable<?>, Type> env, Class<?> wanted, int depth) {
        if (c == wanted) {
            TypeVariable<?>[] vars = c.getTypeParameters();
            Type[] out = new Type[vars.length];
            for (int i = 0; i < vars.length; i++) {
                Type b = env.get(vars[i]);
                out[i] = b != null ? b : Object.class;
            }
            return out;
        }
        if (depth > 20) {
            return null;
        }
        ArrayList<Type> supers = new ArrayList<Type>(Arrays.asList(c.getGenericInterfaces()));
        if (c.getGenericSuperclass() != null) {
            supers.add(c.getGenericSuperclass());
        }
        for (Type s : supers) {
            Class<?> sr = Beans.raw(s);
            if (!wanted.isAssignableFrom(sr)) {
                continue;
            }
            HashMap<TypeVariable<?>, Type> next = new HashMap<TypeVariable<?>, Type>();
            if (s instanceof ParameterizedType) {
                TypeVariable<?>[] vars = sr.getTypeParameters();
                Type[] args = ((ParameterizedType) s).getActualTypeArguments();
                for (int i = 0; i < vars.length && i < args.length; i++) {
                    next.put(vars[i], resolve(args[i], env));
                }
            }
            Type[] found = search(sr, next, wanted, depth + 1);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    private static final class Parameterized implements ParameterizedType {
        private final Type raw;
        private final Type[] args;
        private final Type owner;

        Parameterized(Type raw, Type[] args, Type owner) {
            this.raw = raw;
            this.args = args;
            this.owner = owner;
        }

        @Override
        public Type[] getActualTypeArguments() {
            return args.clone();
        }

        @Override
        public Type getRawType() {
            return raw;
        }

        @Override
        public Type getOwnerType() {
            return owner;
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder(raw.getTypeName()).append('<');
            for (int i = 0; i < args.length; i++) {
                if (i > 0) {
                    b.append(", ");
                }
                b.append(args[i].getTypeName());
            }
            return b.append('>').toString();
        }
    }

    private static final class ArrayOf implements GenericArrayType {
        private final Type component;

        ArrayOf(Type component) {
            this.component = component;
        }

        @Override
        public Type getGenericComponentType() {
            return component;
        }

        @Override
        public String toString() {
            return component.getTypeName() + "[]";
        }
    }
}
