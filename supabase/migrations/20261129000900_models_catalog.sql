-- GENERATED from the Rust model catalog (crates/imagegen-core/src/catalog); do not edit.
-- Regenerate: UPDATE_GENERATED=1 cargo test -p imagegen-core models_migration
--
-- Keeps public.models in step with the catalog, matched by replicate_id: existing rows keep their id
-- (clients and image_generations.model_id hold it) and get the catalog's values; models not in the
-- table are inserted with a new id; rows whose replicate_id the catalog does not serve are
-- deactivated, never deleted (generations reference them). Unchanged rows are not written, so
-- running this again changes nothing.

-- Rows stored under an id the original Picture documents used take the catalog's id, keeping their uuid.
update public.models set replicate_id = 'google/imagen-4-fast'
 where replicate_id = 'google-deepmind/imagen-4-fast'
   and not exists (select 1 from public.models where replicate_id = 'google/imagen-4-fast');
update public.models set replicate_id = 'recraft-ai/recraft-v3-svg'
 where replicate_id = 'fofr/recraft-v3-svg'
   and not exists (select 1 from public.models where replicate_id = 'recraft-ai/recraft-v3-svg');

insert into public.models as m (
  name, display_name, description, replicate_id, version, default_width, default_height,
  default_steps, default_guidance_scale, default_strength, min_width, max_width, min_height,
  max_height, max_steps, supports_negative_prompt, supports_seed, supports_image_to_image,
  supports_img2img, strength_min, strength_max, supported_aspect_ratios, is_active, is_default,
  sort_order, cost_per_generation, estimated_time_seconds, cost_weight
) values
  -- black-forest-labs/flux-schnell
  ('flux-schnell', 'FLUX Schnell',
   'The fastest and cheapest FLUX model: good images in about two seconds.',
   'black-forest-labs/flux-schnell', null, 1024, 1024, 4, null, null, 256, 2048, 256, 2048, 4, false,
   true, false, false, null, null,
   '["1:1","16:9","21:9","3:2","2:3","4:5","5:4","3:4","4:3","9:16","9:21"]'::jsonb, true, true, 1,
   0.003, 2, 3),
  -- black-forest-labs/flux-dev
  ('flux-dev', 'FLUX Dev', 'FLUX at full quality, with image-to-image.',
   'black-forest-labs/flux-dev', null, 1024, 1024, 28, 3, 0.8, 256, 2048, 256, 2048, 50, false, true,
   true, true, 0, 1,
   '["1:1","16:9","21:9","3:2","2:3","4:5","5:4","3:4","4:3","9:16","9:21"]'::jsonb, true, false, 2,
   0.025, 6, 25),
  -- black-forest-labs/flux-krea-dev
  ('flux-krea-dev', 'FLUX Krea Dev',
   'FLUX tuned with Krea for natural, photographic images without the typical AI look.',
   'black-forest-labs/flux-krea-dev', null, 1024, 1024, 28, 3, 0.8, 256, 2048, 256, 2048, 50, false,
   true, true, true, 0, 1,
   '["1:1","16:9","21:9","3:2","2:3","4:5","5:4","3:4","4:3","9:16","9:21"]'::jsonb, true, false, 3,
   0.025, 6, 25),
  -- black-forest-labs/flux-1.1-pro
  ('flux-1.1-pro', 'FLUX 1.1 Pro',
   'Black Forest Labs'' professional model: detailed images at any size up to 1440 pixels.',
   'black-forest-labs/flux-1.1-pro', null, 1024, 1024, null, null, null, 256, 1440, 256, 1440, null,
   false, true, true, true, null, null,
   '["1:1","16:9","3:2","2:3","4:5","5:4","9:16","3:4","4:3","21:9","9:21"]'::jsonb, true, false, 4,
   0.04, 5, 40),
  -- black-forest-labs/flux-1.1-pro-ultra
  ('flux-1.1-pro-ultra', 'FLUX 1.1 Pro Ultra', 'FLUX 1.1 Pro at about four megapixels.',
   'black-forest-labs/flux-1.1-pro-ultra', null, 1024, 1024, null, null, 0.9, 256, 2048, 256, 2048,
   null, false, true, true, true, 0, 1,
   '["21:9","16:9","3:2","4:3","5:4","1:1","4:5","3:4","2:3","9:16","9:21"]'::jsonb, true, false, 5,
   0.06, 12, 60),
  -- black-forest-labs/flux-kontext-pro
  ('flux-kontext-pro', 'FLUX Kontext Pro', 'Edits an image from a text instruction, or creates one.',
   'black-forest-labs/flux-kontext-pro', null, 1024, 1024, null, null, null, 256, 2048, 256, 2048,
   null, false, true, true, true, null, null,
   '["1:1","16:9","9:16","4:3","3:4","3:2","2:3","4:5","5:4","21:9","9:21","2:1","1:2"]'::jsonb,
   true, false, 6, 0.04, 7, 40),
  -- bytedance/sdxl-lightning-4step
  ('sdxl-lightning-4step', 'SDXL Lightning', 'SDXL distilled to four steps: fast drafts.',
   'bytedance/sdxl-lightning-4step',
   '6f7a773af6fc3e8de9d5a3c00be77c17308914bf67772726aff83496ba1e3bbe', 1024, 1024, 4, 0, null, 256,
   1280, 256, 1280, 10, true, true, false, false, null, null,
   '["1:1","16:9","9:16","4:3","3:4","3:2","2:3","21:9","9:21"]'::jsonb, true, false, 7, 0.002, 2, 2),
  -- stability-ai/sdxl
  ('sdxl', 'SDXL', 'Stable Diffusion XL with negative prompts and image-to-image.',
   'stability-ai/sdxl', '39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b', 1024,
   1024, 50, 7.5, 0.8, 256, 1536, 256, 1536, 500, true, true, true, true, 0, 1,
   '["1:1","16:9","9:16","4:3","3:4","3:2","2:3","21:9","9:21"]'::jsonb, true, false, 8, 0.004, 9, 4),
  -- ideogram-ai/ideogram-v3-turbo
  ('ideogram-v3-turbo', 'Ideogram 3 Turbo',
   'Ideogram''s fast tier: the best at lettering, logos and posters.',
   'ideogram-ai/ideogram-v3-turbo', null, 1024, 1024, null, null, null, 256, 2048, 256, 2048, null,
   false, true, false, false, null, null,
   '["1:3","3:1","1:2","2:1","9:16","16:9","10:16","16:10","2:3","3:2","3:4","4:3","4:5","5:4","1:1"]'::jsonb,
   true, false, 9, 0.03, 6, 30),
  -- ideogram-ai/ideogram-v3-balanced
  ('ideogram-v3-balanced', 'Ideogram 3 Balanced', 'Ideogram 3 balancing speed and quality.',
   'ideogram-ai/ideogram-v3-balanced', null, 1024, 1024, null, null, null, 256, 2048, 256, 2048,
   null, false, true, false, false, null, null,
   '["1:3","3:1","1:2","2:1","9:16","16:9","10:16","16:10","2:3","3:2","3:4","4:3","4:5","5:4","1:1"]'::jsonb,
   true, false, 10, 0.06, 12, 60),
  -- ideogram-ai/ideogram-v3-quality
  ('ideogram-v3-quality', 'Ideogram 3 Quality', 'Ideogram 3 at its highest quality.',
   'ideogram-ai/ideogram-v3-quality', null, 1024, 1024, null, null, null, 256, 2048, 256, 2048, null,
   false, true, false, false, null, null,
   '["1:3","3:1","1:2","2:1","9:16","16:9","10:16","16:10","2:3","3:2","3:4","4:3","4:5","5:4","1:1"]'::jsonb,
   true, false, 11, 0.09, 30, 90),
  -- google/imagen-4
  ('imagen-4', 'Imagen 4', 'Google''s photorealistic model.', 'google/imagen-4', null, 1024, 1024,
   null, null, null, 256, 2048, 256, 2048, null, false, false, false, false, null, null,
   '["1:1","9:16","16:9","3:4","4:3"]'::jsonb, true, false, 12, 0.04, 9, 40),
  -- google/imagen-4-fast
  ('imagen-4-fast', 'Imagen 4 Fast', 'Google Imagen 4, faster and cheaper.', 'google/imagen-4-fast',
   null, 1024, 1024, null, null, null, 256, 2048, 256, 2048, null, false, false, false, false, null,
   null, '["1:1","9:16","16:9","3:4","4:3"]'::jsonb, true, false, 13, 0.02, 4, 20),
  -- google/imagen-4-ultra
  ('imagen-4-ultra', 'Imagen 4 Ultra', 'Google Imagen 4 at its highest quality.',
   'google/imagen-4-ultra', null, 1024, 1024, null, null, null, 256, 2048, 256, 2048, null, false,
   false, false, false, null, null, '["1:1","9:16","16:9","3:4","4:3"]'::jsonb, true, false, 14,
   0.06, 14, 60),
  -- stability-ai/stable-diffusion-3.5-large
  ('stable-diffusion-3.5-large', 'Stable Diffusion 3.5 Large',
   'Stability AI''s largest SD 3.5 model, with negative prompts and image-to-image.',
   'stability-ai/stable-diffusion-3.5-large', null, 1024, 1024, 40, 5, 0.85, 256, 2048, 256, 2048,
   50, true, true, true, true, 0, 1,
   '["16:9","1:1","21:9","2:3","3:2","4:5","5:4","9:16","9:21"]'::jsonb, true, false, 15, 0.065, 12,
   65),
  -- recraft-ai/recraft-v3
  ('recraft-v3', 'Recraft V3', 'Design-minded images in many illustration and photo styles.',
   'recraft-ai/recraft-v3', null, 1024, 1024, null, null, null, 1024, 2048, 1024, 2048, null, false,
   false, false, false, null, null,
   '["1:1","4:3","3:4","3:2","2:3","16:9","9:16","1:2","2:1","7:5","5:7","4:5","5:4","3:5","5:3"]'::jsonb,
   true, false, 16, 0.04, 9, 40),
  -- recraft-ai/recraft-v3-svg
  ('recraft-v3-svg', 'Recraft V3 SVG', 'Vector graphics (SVG) for logos, icons and illustrations.',
   'recraft-ai/recraft-v3-svg', null, 1024, 1024, null, null, null, 1024, 2048, 1024, 2048, null,
   false, false, false, false, null, null,
   '["1:1","4:3","3:4","3:2","2:3","16:9","9:16","1:2","2:1","7:5","5:7","4:5","5:4","3:5","5:3"]'::jsonb,
   true, false, 17, 0.08, 12, 80),
  -- bytedance/seedream-3
  ('seedream-3', 'Seedream 3',
   'ByteDance''s versatile model for artwork and illustration, at free sizes up to 2048 pixels.',
   'bytedance/seedream-3', null, 1024, 1024, null, 2.5, null, 512, 2048, 512, 2048, null, false,
   true, false, false, null, null,
   '["1:1","3:4","4:3","16:9","9:16","2:3","3:2","21:9","9:21"]'::jsonb, true, false, 18, 0.03, 7,
   30),
  -- bytedance/seedream-4
  ('seedream-4', 'Seedream 4', 'ByteDance''s model for generation and editing at up to 4K.',
   'bytedance/seedream-4', null, 1024, 1024, null, null, null, 1024, 4096, 1024, 4096, null, false,
   false, true, true, null, null,
   '["1:1","4:3","3:4","16:9","9:16","3:2","2:3","21:9","9:21"]'::jsonb, true, false, 19, 0.03, 14,
   30),
  -- qwen/qwen-image
  ('qwen-image', 'Qwen Image',
   'Alibaba''s model, strong at text in images and at prompts in many languages.', 'qwen/qwen-image',
   null, 1024, 1024, 30, 3, 0.9, 256, 2048, 256, 2048, 50, true, true, true, true, 0, 1,
   '["1:1","16:9","9:16","4:3","3:4","3:2","2:3"]'::jsonb, true, false, 20, 0.025, 4, 25),
  -- google/nano-banana
  ('nano-banana', 'Nano Banana',
   'Google Gemini''s image model: edits and combines images from instructions.',
   'google/nano-banana', null, 1024, 1024, null, null, null, 256, 2048, 256, 2048, null, false,
   false, true, true, null, null,
   '["1:1","2:3","3:2","3:4","4:3","4:5","5:4","9:16","16:9","21:9"]'::jsonb, true, false, 21, 0.039,
   11, 39)
on conflict (replicate_id) do update set
  name = excluded.name,
  display_name = excluded.display_name,
  description = excluded.description,
  version = excluded.version,
  default_width = excluded.default_width,
  default_height = excluded.default_height,
  default_steps = excluded.default_steps,
  default_guidance_scale = excluded.default_guidance_scale,
  default_strength = excluded.default_strength,
  min_width = excluded.min_width,
  max_width = excluded.max_width,
  min_height = excluded.min_height,
  max_height = excluded.max_height,
  max_steps = excluded.max_steps,
  supports_negative_prompt = excluded.supports_negative_prompt,
  supports_seed = excluded.supports_seed,
  supports_image_to_image = excluded.supports_image_to_image,
  supports_img2img = excluded.supports_img2img,
  strength_min = excluded.strength_min,
  strength_max = excluded.strength_max,
  supported_aspect_ratios = excluded.supported_aspect_ratios,
  is_active = excluded.is_active,
  is_default = excluded.is_default,
  sort_order = excluded.sort_order,
  cost_per_generation = excluded.cost_per_generation,
  estimated_time_seconds = excluded.estimated_time_seconds,
  cost_weight = excluded.cost_weight
where (m.name, m.display_name, m.description, m.replicate_id, m.version, m.default_width,
       m.default_height, m.default_steps, m.default_guidance_scale, m.default_strength, m.min_width,
       m.max_width, m.min_height, m.max_height, m.max_steps, m.supports_negative_prompt,
       m.supports_seed, m.supports_image_to_image, m.supports_img2img, m.strength_min,
       m.strength_max, m.supported_aspect_ratios, m.is_active, m.is_default, m.sort_order,
       m.cost_per_generation, m.estimated_time_seconds, m.cost_weight)
  is distinct from (excluded.name, excluded.display_name, excluded.description,
                    excluded.replicate_id, excluded.version, excluded.default_width,
                    excluded.default_height, excluded.default_steps, excluded.default_guidance_scale,
                    excluded.default_strength, excluded.min_width, excluded.max_width,
                    excluded.min_height, excluded.max_height, excluded.max_steps,
                    excluded.supports_negative_prompt, excluded.supports_seed,
                    excluded.supports_image_to_image, excluded.supports_img2img,
                    excluded.strength_min, excluded.strength_max, excluded.supported_aspect_ratios,
                    excluded.is_active, excluded.is_default, excluded.sort_order,
                    excluded.cost_per_generation, excluded.estimated_time_seconds,
                    excluded.cost_weight);

-- What the catalog no longer serves stays for the generations that reference it, but is not offered.
update public.models set is_active = false, is_default = false
 where replicate_id not in (
  'black-forest-labs/flux-schnell', 'black-forest-labs/flux-dev', 'black-forest-labs/flux-krea-dev',
  'black-forest-labs/flux-1.1-pro', 'black-forest-labs/flux-1.1-pro-ultra',
  'black-forest-labs/flux-kontext-pro', 'bytedance/sdxl-lightning-4step', 'stability-ai/sdxl',
  'ideogram-ai/ideogram-v3-turbo', 'ideogram-ai/ideogram-v3-balanced',
  'ideogram-ai/ideogram-v3-quality', 'google/imagen-4', 'google/imagen-4-fast',
  'google/imagen-4-ultra', 'stability-ai/stable-diffusion-3.5-large', 'recraft-ai/recraft-v3',
  'recraft-ai/recraft-v3-svg', 'bytedance/seedream-3', 'bytedance/seedream-4', 'qwen/qwen-image',
  'google/nano-banana'
)
   and (is_active is distinct from false or is_default is distinct from false);
