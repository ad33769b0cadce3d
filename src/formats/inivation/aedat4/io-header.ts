/**
 * The AEDAT 4.0 IOHeader: a flatbuffer (identifier 'IOHE') with
 *   table IOHeader { compression:int32 = NONE; dataTablePosition:int64 = -1; infoNode:string; }
 * whose infoNode is DV's XML configuration tree:
 *   <dv version="2.0"><node name="outInfo" path="/mainloop/Recorder/outInfo/">
 *     <node name="0" path="…/0/"> <attr key="typeIdentifier" type="string">EVTS</attr> …
 *       <node name="info" path="…/0/info/"> <attr key="sizeX" type="int">320</attr> … </node>
 *     </node> …
 * one child of outInfo per stream, named by its integer stream id.
 *
 * Reading: `parseIoHeader` (flatbuffer → fields + streams). Writing: `buildIoHeader` (fields +
 * streams → size-prefixed flatbuffer, i.e. exactly the u32 length + IOHeader the file holds).
 */

import { Builder } from 'flatbuffers';
import { int32Field, int64Field, openRoot, stringField, FlatbufferError } from './flatbuffer-access.js';
import { IO_HEADER_ID, IoHeaderSlot } from './schema.js';

export interface StreamInfo {
  readonly id: number;
  /** EVTS, FRME, IMUS, TRIG, … ('' when the node has none). */
  readonly typeIdentifier: string;
  /** The stream node's attributes followed by its `info` subnode's (sizeX, sizeY, source, tsOffset…). */
  readonly attributes: Readonly<Record<string, string>>;
  readonly sizeX: number;
  readonly sizeY: number;
}

export interface IoHeader {
  readonly compression: number;
  readonly dataTablePosition: number;
  readonly infoNode: string;
  readonly identifier: string;
  /** Streams in the order the XML lists them. */
  readonly streams: StreamInfo[];
}

/** Read the IOHeader flatbuffer (the bytes after the u32 length). Throws FlatbufferError when unreadable. */
export function parseIoHeader(bytes: Uint8Array): IoHeader {
  const { table, identifier } = openRoot(bytes);
  const compression = int32Field(table, IoHeaderSlot.compression, 0);
  const dataTablePosition = int64Field(table, IoHeaderSlot.dataTablePosition, -1);
  const infoNode = stringField(table, IoHeaderSlot.infoNode) ?? '';
  return { compression, dataTablePosition, infoNode, identifier, streams: parseInfoNode(infoNode) };
}

interface XmlNode {
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly children: XmlNode[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : ENTITIES[e]!,
  );
}
function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * A tolerant reader for DV's XML subset: nested <node name=…> elements holding
 * <attr key=… type=…>value</attr> leaves. Unknown elements are ignored.
 */
function parseXmlNodes(xml: string): XmlNode {
  const root: XmlNode = { name: '', attrs: {}, children: [] };
  const stack: XmlNode[] = [root];
  const tag = /<(\/?)(node|attr)\b([^>]*?)(\/?)>|<!--[\s\S]*?-->/g;
  let m: RegExpExecArray | null;
  while ((m = tag.exec(xml)) !== null) {
    if (m[2] === undefined) continue; // comment
    const closing = m[1] === '/';
    const selfClosing = m[4] === '/';
    const props: Record<string, string> = {};
    for (const a of (m[3] ?? '').matchAll(/([\w:-]+)\s*=\s*"([^"]*)"/g)) props[a[1]!] = unescapeXml(a[2]!);
    const top = stack[stack.length - 1]!;
    if (m[2] === 'node') {
      if (closing) {
        if (stack.length > 1) stack.pop();
      } else {
        const node: XmlNode = { name: props['name'] ?? '', attrs: {}, children: [] };
        top.children.push(node);
        if (!selfClosing) stack.push(node);
      }
    } else if (!closing && !selfClosing) {
      const end = xml.indexOf('</attr>', tag.lastIndex);
      if (end < 0) break;
      if (props['key'] !== undefined) top.attrs[props['key']] = unescapeXml(xml.slice(tag.lastIndex, end)).trim();
      tag.lastIndex = end + '</attr>'.length;
    }
  }
  return root;
}

function findNode(nodes: readonly XmlNode[], name: string): XmlNode | undefined {
  for (const n of nodes) {
    if (n.name === name) return n;
    const inner = findNode(n.children, name);
    if (inner) return inner;
  }
  return undefined;
}

/** Streams declared under <node name="outInfo">, in document order. */
export function parseInfoNode(xml: string): StreamInfo[] {
  const outInfo = findNode(parseXmlNodes(xml).children, 'outInfo');
  if (!outInfo) return [];
  const streams: StreamInfo[] = [];
  for (const n of outInfo.children) {
    if (!/^\d+$/.test(n.name)) continue;
    const info = n.children.find((c) => c.name === 'info');
    const attributes = { ...n.attrs, ...(info?.attrs ?? {}) };
    const int = (k: string): number => {
      const v = Number.parseInt(attributes[k] ?? '', 10);
      return Number.isFinite(v) && v > 0 ? v : 0;
    };
    streams.push({ id: Number(n.name), typeIdentifier: attributes['typeIdentifier'] ?? '', attributes, sizeX: int('sizeX'), sizeY: int('sizeY') });
  }
  return streams;
}

export interface StreamDeclaration {
  readonly id: number;
  readonly typeIdentifier: string;
  readonly outputName: string;
  readonly description: string;
  /** Info attributes, written in this order with their DV type (int, long, string). */
  readonly info: ReadonlyArray<readonly [key: string, type: 'int' | 'long' | 'string', value: string | number]>;
}

/** DV's infoNode XML for these streams. */
export function buildInfoNode(streams: readonly StreamDeclaration[], compressionName: string, moduleName: string): string {
  const base = '/mainloop/Recorder/outInfo/';
  const attr = (indent: string, key: string, type: string, value: string | number) =>
    `${indent}<attr key="${escapeXml(key)}" type="${type}">${escapeXml(String(value))}</attr>\n`;
  let xml = `<dv version="2.0">\n    <node name="outInfo" path="${base}">\n`;
  for (const s of streams) {
    const path = `${base}${s.id}/`;
    xml += `        <node name="${s.id}" path="${path}">\n`;
    const i3 = '            ';
    xml += attr(i3, 'compression', 'string', compressionName);
    xml += attr(i3, 'originalModuleName', 'string', moduleName);
    xml += attr(i3, 'originalOutputName', 'string', s.outputName);
    xml += attr(i3, 'typeDescription', 'string', s.description);
    xml += attr(i3, 'typeIdentifier', 'string', s.typeIdentifier);
    xml += `${i3}<node name="info" path="${path}info/">\n`;
    for (const [k, type, v] of s.info) xml += attr(`${i3}    `, k, type, v);
    xml += `${i3}</node>\n        </node>\n`;
  }
  return xml + '    </node>\n</dv>\n';
}

export interface BuiltIoHeader {
  /** u32 length + IOHeader flatbuffer, as written after the magic. */
  readonly bytes: Uint8Array;
  /** Position of the int64 dataTablePosition inside `bytes` (for patching once the table is written). */
  readonly dataTablePositionAt: number;
}

/** Build the size-prefixed IOHeader. dataTablePosition is always stored (even −1) so it can be patched in place. */
export function buildIoHeader(compression: number, dataTablePosition: number, infoNode: string): BuiltIoHeader {
  const b = new Builder(1024 + infoNode.length * 2);
  b.forceDefaults(true);
  const info = b.createString(infoNode);
  b.startObject(3);
  b.addFieldInt32(IoHeaderSlot.compression, compression, 0);
  b.addFieldInt64(IoHeaderSlot.dataTablePosition, BigInt(dataTablePosition), BigInt(-1));
  b.addFieldOffset(IoHeaderSlot.infoNode, info, 0);
  b.finishSizePrefixed(b.endObject(), IO_HEADER_ID);
  const bytes = b.asUint8Array().slice();
  const { table } = openRoot(bytes.subarray(4));
  const o = table.bb.__offset(table.pos, 4 + 2 * IoHeaderSlot.dataTablePosition);
  if (o === 0) throw new FlatbufferError('IOHeader built without dataTablePosition');
  return { bytes, dataTablePositionAt: 4 + table.pos + o };
}
