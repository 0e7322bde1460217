/**
 * The pets table through the shared SqlDatabase interface (pg or the Data API, same SQL). Every
 * selected column is cast to text so both drivers return identical values (pg would turn dates into
 * local-time Date objects and int8 into strings; the Data API returns timestamps without a zone).
 */
import type { SqlDatabase, SqlExecutor } from "../shared/db/types";
import type { NewPet } from "./validation";

export interface Pet {
  id: string;
  name: string;
  species: string;
  birthDate: string | null;
  tags: string[];
  createdAt: string;
}

export interface PetPage {
  items: Pet[];
  /** Sequence of the last item when more items follow. */
  lastSeq?: string;
}

/**
 * Schema versions, applied in order, each once. Held under a transaction-scoped advisory lock so
 * concurrent cold starts neither race `CREATE TABLE` nor apply a version twice.
 */
export const MIGRATIONS: { version: number; statements: string[] }[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE IF NOT EXISTS pets (
        seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        id uuid PRIMARY KEY,
        name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
        species text NOT NULL CHECK (char_length(species) BETWEEN 1 AND 50),
        birth_date date,
        tags jsonb NOT NULL DEFAULT '[]'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
    ],
  },
];

/** pg_advisory_xact_lock key: "pets-api" as a number, shared by every instance of the function. */
const MIGRATION_LOCK = 0x70657473;

export async function migrate(db: SqlDatabase): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(:key)", { key: { type: "bigint", value: MIGRATION_LOCK } });
    await tx.query(
      "CREATE TABLE IF NOT EXISTS pets_api_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const done = new Set(
      (await tx.query<{ version: string }>("SELECT version::text AS version FROM pets_api_migrations")).rows.map((r) =>
        Number(r.version),
      ),
    );
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      for (const sql of m.statements) await tx.query(sql);
      await tx.query("INSERT INTO pets_api_migrations (version) VALUES (:version)", { version: m.version });
      applied.push(m.version);
    }
    return applied;
  });
}

const COLUMNS = `seq::text AS seq, id::text AS id, name, species, birth_date::text AS birth_date, tags::text AS tags,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at`;

interface Row extends Record<string, unknown> {
  seq: string;
  id: string;
  name: string;
  species: string;
  birth_date: string | null;
  tags: string;
  created_at: string;
}

function toPet(r: Row): Pet {
  return {
    id: r.id,
    name: r.name,
    species: r.species,
    birthDate: r.birth_date ?? null,
    tags: JSON.parse(r.tags) as string[],
    createdAt: r.created_at,
  };
}

export class PetStore {
  constructor(private readonly db: SqlExecutor) {}

  /** Up to `limit` pets after `afterSeq`, oldest first; `lastSeq` set when another page exists. */
  async list(limit: number, afterSeq?: string): Promise<PetPage> {
    const { rows } = await this.db.query<Row>(
      // `pets.seq`: a bare `seq` in ORDER BY would mean the text alias, which sorts 10 before 9.
      `SELECT ${COLUMNS} FROM pets WHERE pets.seq > :after ORDER BY pets.seq LIMIT :limit`,
      { after: { type: "bigint", value: afterSeq ?? "0" }, limit: limit + 1 },
    );
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    return { items: page.map(toPet), lastSeq: more ? page[page.length - 1].seq : undefined };
  }

  async get(id: string): Promise<Pet | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT ${COLUMNS} FROM pets WHERE id = :id`, {
      id: { type: "uuid", value: id },
    });
    return rows[0] ? toPet(rows[0]) : undefined;
  }

  async create(id: string, pet: NewPet): Promise<Pet> {
    const { rows } = await this.db.query<Row>(
      `INSERT INTO pets (id, name, species, birth_date, tags) VALUES (:id, :name, :species, :birthDate, :tags) RETURNING ${COLUMNS}`,
      {
        id: { type: "uuid", value: id },
        name: pet.name,
        species: pet.species,
        birthDate: { type: "date", value: pet.birthDate ?? null },
        tags: { type: "json", value: pet.tags ?? [] },
      },
    );
    return toPet(rows[0]);
  }
}
