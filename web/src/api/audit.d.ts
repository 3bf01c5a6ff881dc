// Generated from the audit service's OpenAPI by `make web-clients` (openapi-typescript). Do not edit:
// `make test` fails when this file differs from what the service's API describes.

export interface paths {
    "/audit/records": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Audit records, newest first (keyset pages) */
        get: operations["records_audit_records_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/audit/records/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Export the filtered audit records as CSV (streamed, oldest first) */
        get: operations["export_audit_records_export_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/audit/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Check the hash chain from its anchor and against the published anchors: the first broken sequence number, if any
         * @description The chain recomputed from its prune anchor, then compared with every anchor the worker published to
         *     crm.audit.anchors (a rewritten or truncated chain differs from one published before). Anchors the broker
         *     does not hand over in 10 s are not compared (`anchors_checked` null; a WARNING is logged).
         */
        get: operations["verify_audit_verify_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * AuditKind
         * @description Why the request was audited.
         * @enum {string}
         */
        AuditKind: "write" | "pii_read" | "export" | "refusal" | "sign_in";
        /**
         * AuditOutcome
         * @enum {string}
         */
        AuditOutcome: "allowed" | "denied" | "failed";
        /** AuditRecordPage */
        AuditRecordPage: {
            /** Items */
            items: components["schemas"]["AuditRecordView"][];
            /** Next Cursor */
            next_cursor?: string | null;
        };
        /** AuditRecordView */
        AuditRecordView: {
            /** Action */
            action: string;
            /**
             * Answered
             * @description False: a write whose process ended before it answered (its record was written ahead; the write committed).
             * @default true
             */
            answered: boolean;
            /**
             * At
             * Format: date-time
             */
            at: string;
            /** Client Ip */
            client_ip: string | null;
            /** Correlation Id */
            correlation_id: string | null;
            /** Customer Id */
            customer_id: string | null;
            /**
             * Hash
             * @description sha256(previous hash || canonical JSON of the record), hex.
             */
            hash: string;
            kind: components["schemas"]["AuditKind"];
            /** Method */
            method: string;
            outcome: components["schemas"]["AuditOutcome"];
            /** Record Id */
            record_id: string;
            /** Roles */
            roles: string[];
            /** Route */
            route: string;
            /**
             * Seq
             * @description Position in the hash chain.
             */
            seq: number;
            /** Service */
            service: string;
            /** Staff Id */
            staff_id: string | null;
            /** Status */
            status: number;
        };
        /** ChainVerdict */
        ChainVerdict: {
            /**
             * Anchor Seq
             * @description Sequence number of the last pruned record (0: nothing pruned).
             */
            anchor_seq: number;
            /**
             * Anchors Checked
             * @description Anchors published to crm.audit.anchors that the chain was compared with (a stored hash differing from an anchor's, or a head below an anchored one, fails the check); null: the anchors could not be read (the broker did not answer), the chain alone was checked.
             */
            anchors_checked?: number | null;
            /**
             * Checked
             * @description Records checked.
             */
            checked: number;
            /**
             * First Broken Seq
             * @description The first sequence number that does not verify.
             */
            first_broken_seq?: number | null;
            /**
             * Head Seq
             * @description Last sequence number checked (or where the check stopped).
             */
            head_seq: number;
            /**
             * Ok
             * @description Every record from the anchor chains to its predecessor.
             */
            ok: boolean;
            /** Reason */
            reason?: string | null;
        };
        /**
         * Problem
         * @description RFC 9457 problem details. Validation problems (422) list every invalid field in `errors`.
         */
        Problem: {
            /** @description Stable machine-readable reason. */
            code?: string;
            correlation_id?: string;
            /** @description What went wrong; for validation problems `<field>: <message>`. */
            detail?: unknown;
            errors?: {
                field: string;
                message: string;
            }[];
            /** @description The offending field (domain validation). */
            field?: string;
            status: number;
            title: string;
            /** @description URI of the problem type (`about:blank` or a whale URN). */
            type: string;
        } & {
            [key: string]: unknown;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    records_audit_records_get: {
        parameters: {
            query?: {
                action?: string | null;
                /** @description `next_cursor` of the previous page (opaque; only cursors this list issued are accepted). */
                cursor?: string | null;
                customer_id?: string | null;
                kind?: components["schemas"]["AuditKind"] | null;
                limit?: number;
                outcome?: components["schemas"]["AuditOutcome"] | null;
                service?: string | null;
                /** @description From this time (inclusive). */
                since?: string | null;
                staff_id?: string | null;
                /** @description Before this time. */
                until?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditRecordPage"];
                };
            };
            /** @description Malformed request (e.g. an invalid X-Correlation-ID header). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, expired or invalid bearer token. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The token lacks a permission this operation needs. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A resource the request names (path, filter or body) is unknown or outside the caller's data scope. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid input; `errors` names every field (lengths, formats, explicit nulls, interval order, cursors). */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Request headers too large. */
            431: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A dependency (database, event store) is unavailable; retry after `Retry-After` seconds. */
            503: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    export_audit_records_export_get: {
        parameters: {
            query?: {
                action?: string | null;
                customer_id?: string | null;
                kind?: components["schemas"]["AuditKind"] | null;
                outcome?: components["schemas"]["AuditOutcome"] | null;
                service?: string | null;
                /** @description From this time (inclusive). */
                since?: string | null;
                staff_id?: string | null;
                /** @description Before this time. */
                until?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The CSV file. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": string;
                };
            };
            /** @description Malformed request (e.g. an invalid X-Correlation-ID header). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, expired or invalid bearer token. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The token lacks a permission this operation needs. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A resource the request names (path, filter or body) is unknown or outside the caller's data scope. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid input; `errors` names every field (lengths, formats, explicit nulls, interval order, cursors). */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Request headers too large. */
            431: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A dependency (database, event store) is unavailable; retry after `Retry-After` seconds. */
            503: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    verify_audit_verify_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ChainVerdict"];
                };
            };
            /** @description Malformed request (e.g. an invalid X-Correlation-ID header). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, expired or invalid bearer token. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The token lacks a permission this operation needs. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A resource the request names (path, filter or body) is unknown or outside the caller's data scope. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid input; `errors` names every field (lengths, formats, explicit nulls, interval order, cursors). */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Request headers too large. */
            431: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A dependency (database, event store) is unavailable; retry after `Retry-After` seconds. */
            503: {
                headers: {
                    /** @description Seconds to wait before retrying. */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
}
